//! Diesel table definitions, matching `migrations/`.

diesel::table! {
    organizations (id) {
        id -> Uuid,
        name -> Text,
        kind -> Text,
        parent_id -> Nullable<Uuid>,
        other_names -> Jsonb,
        founding_date -> Nullable<Date>,
        dissolution_date -> Nullable<Date>,
        description -> Nullable<Text>,
        contact_details -> Jsonb,
        sources -> Jsonb,
        search_text -> Text,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}
