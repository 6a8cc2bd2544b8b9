//! Value objects Popolo gives every record: other names, contact details,
//! links and sources.

use super::{HttpUrl, LanguageTag, Name, Optional, PartialDate, Text};

crate::record! {
    /// Another name of a record: in another language, a former or short name.
    #[example = serde_json::json!({"name": "杨浦区数字经济产业集群党建联盟", "lang": "zh"})]
    pub struct OtherName {
        pub name: Name<500>,
        /// BCP 47 language tag, e.g. `zh` or `en`.
        pub lang: Option<LanguageTag>,
        pub note: Optional<Text<2000>>,
        /// When the name came into use (a partial date).
        pub start_date: Option<PartialDate>,
        /// When the name went out of use (a partial date), not before
        /// `start_date`.
        pub end_date: Option<PartialDate>,
    }
}

crate::record! {
    /// A way to reach a record.
    #[example = serde_json::json!({"type": "phone", "value": "+86 21 6543 0000", "label": "office"})]
    pub struct ContactDetail {
        /// Medium, e.g. `phone`, `email`, `address`, `website`, `wechat`.
        #[rename = "type"]
        pub contact_type: Name<50>,
        pub value: Name<2000>,
        pub label: Optional<Text<500>>,
    }
}

crate::record! {
    /// Where information about a record comes from.
    #[example = serde_json::json!({"url": "http://sh.people.com.cn/n2/2023/0524/c134768-40428371.html", "note": "People's Daily Online, 2023-05-23"})]
    pub struct Source {
        /// Absolute http(s) URL naming its host by domain (ASCII: write an
        /// internationalized domain in its `xn--` form).
        pub url: HttpUrl,
        pub note: Optional<Text<2000>>,
    }
}

crate::record! {
    /// A web page about a record (Popolo's `link`), e.g. its website or a
    /// profile.
    #[example = serde_json::json!({"url": "https://www.shyp.gov.cn/", "note": "district government website"})]
    pub struct Link {
        /// Absolute http(s) URL naming its host by domain.
        pub url: HttpUrl,
        pub note: Optional<Text<2000>>,
    }
}
