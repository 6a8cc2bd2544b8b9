//! `/v1/areas`: the places the register's bodies serve (Shanghai, Yangpu
//! District, its streets), in a tree through `parent_id`.

use crate::api::input::{other_name_periods, Patch, Ref};
use crate::api::problems::ListErrors;
use crate::api::resource::Resource;
use crate::domain::{
    Identifiers, Link, List, Name, Optional, OtherName, Reference, Search, Source,
};
use crate::error::{Error, FieldError};
use crate::page_type;
use crate::store::api_keys::Principal;
use crate::store::areas::{self as store, AreaData, AreaFilter, AreaRecord};
use crate::store::NameSort;
use serde_json::json;

crate::representation! {
    /// An area of the register: a place a body serves.
    pub struct Area of AreaInput from AreaRecord(AreaData);
    example = json!({
        "id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6ac1",
        "name": "Yangpu District",
        "classification": "district",
        "parent_id": "0193a1f2-7c3e-7b1a-9f00-3c2d4e5f6ac0",
        "other_names": [{"name": "杨浦区", "lang": "zh"}],
        "links": [{"url": "https://www.shyp.gov.cn/", "note": "district government website"}],
        "sources": [],
        "identifiers": [{"scheme": "yangpu-alliance", "value": "area-yangpu"}],
        "version": 1,
        "created_at": "2026-12-05T08:00:00Z",
        "updated_at": "2026-12-05T08:00:00Z",
        "deleted_at": null
    });
}

crate::input! {
    /// The writable fields of an area, for create (POST) and full replace
    /// (PUT). Optional fields left out are empty.
    #[example = json!({
        "name": "Yangpu District",
        "classification": "district",
        "parent_id": "yangpu-alliance:area-shanghai",
        "other_names": [{"name": "杨浦区", "lang": "zh"}],
        "identifiers": [{"scheme": "yangpu-alliance", "value": "area-yangpu"}]
    })]
    pub struct AreaInput => AreaData;
    /// A JSON merge patch (RFC 7396) of an area: members present are set,
    /// members set to `null` are cleared, absent members stay.
    #[example = json!({"links": [{"url": "https://www.shyp.gov.cn/"}]})]
    pub struct AreaPatch;
    {
        /// 1–500 characters after trimming.
        name: Name<500>,
        /// What kind of place, in the register's own words, e.g. `city`,
        /// `district` or `street` (1–200 characters).
        classification: Optional<Name<200>>,
        /// The area this one lies in: a live area (id or `scheme:value`);
        /// the tree must stay free of cycles.
        parent_id: Option<Ref<Areas>>,
        other_names: List<OtherName, 100>,
        links: List<Link, 100>,
        sources: List<Source, 100>,
        /// External identifiers; each (resource, scheme, value) belongs to one
        /// live record.
        identifiers: Identifiers,
    }
}

page_type!(
    /// One page of areas.
    AreaPage,
    Area
);

crate::list_params! {
    /// Filters and paging of `GET /v1/areas`.
    pub struct ListAreasParams of records sorted by NameSort {
        /// Only areas of this classification (exact).
        #[param(inline)]
        classification: Option<Name<200>>,
        /// Only direct children of this area.
        parent_id: Option<Reference>,
        /// Case-insensitive substring of the name or of any other name.
        #[param(inline)]
        q: Option<Search<200>>,
    }
}

impl Resource for Areas {
    fn rules(input: &AreaInput) -> Vec<FieldError> {
        other_name_periods("other_names", &input.other_names)
    }

    fn moves(input: &AreaInput) -> bool {
        input.parent_id.is_some()
    }

    fn patch_moves(patch: &AreaPatch) -> bool {
        matches!(patch.parent_id, Patch::Set(Some(_)))
    }

    fn present(record: AreaRecord, _viewer: &Principal) -> Result<Area, Error> {
        Area::try_from(record)
    }
}

crate::list_operation! {
    get "/v1/areas" in "areas" as "listAreas", params(ListAreasParams),
    "One page of live areas" => AreaPage, ListErrors;
    /// Lists areas.
    pub async fn list: store::list, Areas::present, |p, _| AreaFilter {
        classification: p.classification.clone().map(String::from),
        parent_id: p.parent_id.clone(),
        q: p.q.as_ref().and_then(Search::term),
        records: p.records()?,
    }
}

crate::handlers! {
    /// Areas as a [`Resource`].
    pub struct Areas: AreaInput, AreaPatch => Area in store::Areas,
    "areas" at "/v1/areas" for "Area" ("an area", "the area"),
    routes [Read => list from replica],
    delete "Deletes an area (kept as a tombstone); refused while live child areas, organizations or posts refer to it.",
}
