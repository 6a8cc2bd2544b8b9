//! Diesel table definitions, matching `migrations/`.

diesel::table! {
    organizations (id) {
        id -> Uuid,
        name -> Text,
        kind -> Text,
        parent_id -> Nullable<Uuid>,
        other_names -> Jsonb,
        founding_date -> Nullable<Text>,
        dissolution_date -> Nullable<Text>,
        description -> Nullable<Text>,
        contact_details -> Jsonb,
        sources -> Jsonb,
        search_text -> Text,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        identifiers -> Jsonb,
        deleted_at -> Nullable<Timestamptz>,
        classification -> Nullable<Text>,
        links -> Jsonb,
        area_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    people (id) {
        id -> Uuid,
        name -> Text,
        given_name -> Nullable<Text>,
        family_name -> Nullable<Text>,
        other_names -> Jsonb,
        gender -> Nullable<Text>,
        birth_date -> Nullable<Text>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        biography -> Nullable<Text>,
        image_url -> Nullable<Text>,
        contact_details -> Jsonb,
        sources -> Jsonb,
        search_text -> Text,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        identifiers -> Jsonb,
        deleted_at -> Nullable<Timestamptz>,
        public_version -> Int8,
        public_updated_at -> Timestamptz,
        sort_name -> Nullable<Text>,
        honorific_prefix -> Nullable<Text>,
        honorific_suffix -> Nullable<Text>,
        death_date -> Nullable<Text>,
        links -> Jsonb,
    }
}

diesel::table! {
    roles (id) {
        id -> Uuid,
        organization_id -> Uuid,
        person_id -> Nullable<Uuid>,
        member_organization_id -> Nullable<Uuid>,
        title -> Text,
        start_date -> Nullable<Text>,
        end_date -> Nullable<Text>,
        note -> Nullable<Text>,
        sources -> Jsonb,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        identifiers -> Jsonb,
        deleted_at -> Nullable<Timestamptz>,
        role -> Nullable<Text>,
        on_behalf_of_id -> Nullable<Uuid>,
        links -> Jsonb,
        post_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    events (id) {
        id -> Uuid,
        title -> Text,
        kind -> Text,
        status -> Text,
        starts_at -> Nullable<Timestamptz>,
        ends_at -> Nullable<Timestamptz>,
        location -> Nullable<Text>,
        description -> Nullable<Text>,
        parent_event_id -> Nullable<Uuid>,
        topics -> Array<Text>,
        sources -> Jsonb,
        search_text -> Text,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        identifiers -> Jsonb,
        deleted_at -> Nullable<Timestamptz>,
        start_date -> Nullable<Date>,
        end_date -> Nullable<Date>,
        timezone -> Text,
        recurrence -> Nullable<Text>,
        links -> Jsonb,
        begins_at -> Timestamptz,
        finishes_at -> Nullable<Timestamptz>,
        first_day -> Nullable<Date>,
        last_day -> Nullable<Date>,
    }
}

diesel::table! {
    event_participants (id) {
        id -> Uuid,
        event_id -> Uuid,
        person_id -> Nullable<Uuid>,
        organization_id -> Nullable<Uuid>,
        role -> Text,
        on_behalf_of_id -> Nullable<Uuid>,
        note -> Nullable<Text>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        identifiers -> Jsonb,
        links -> Jsonb,
    }
}

diesel::table! {
    imports (id) {
        id -> Uuid,
        key_id -> Uuid,
        created_at -> Timestamptz,
        dry_run -> Bool,
        format -> Text,
        records -> Int4,
        counts -> Jsonb,
    }
}

diesel::table! {
    areas (id) {
        id -> Uuid,
        name -> Text,
        classification -> Nullable<Text>,
        parent_id -> Nullable<Uuid>,
        other_names -> Jsonb,
        identifiers -> Jsonb,
        links -> Jsonb,
        sources -> Jsonb,
        search_text -> Text,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    posts (id) {
        id -> Uuid,
        label -> Text,
        role -> Nullable<Text>,
        organization_id -> Uuid,
        area_id -> Nullable<Uuid>,
        start_date -> Nullable<Text>,
        end_date -> Nullable<Text>,
        other_labels -> Jsonb,
        contact_details -> Jsonb,
        links -> Jsonb,
        sources -> Jsonb,
        identifiers -> Jsonb,
        search_text -> Text,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(event_participants -> events (event_id));
diesel::joinable!(event_participants -> people (person_id));
diesel::joinable!(roles -> people (person_id));

// Derived from `roles` and `people` by triggers (migration
// `list_indexes`): one row per live role held by a person, with the
// person's `id`, `name` and `created_at`, so people are paged by
// organization as `people` itself is.
diesel::table! {
    role_holders (role_id) {
        role_id -> Uuid,
        organization_id -> Uuid,
        id -> Uuid,
        name -> Text,
        created_at -> Timestamptz,
        first_day -> Nullable<Date>,
        last_day -> Nullable<Date>,
    }
}

// Derived from `people` by triggers (migration `people_name_grams`): each
// live person under every character and every pair of adjacent characters
// of their names, lower-cased.
diesel::table! {
    people_name_grams (gram, name, id) {
        gram -> Text,
        name -> Text,
        id -> Uuid,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    people,
    roles,
    events,
    event_participants,
    areas,
    posts
);

diesel::table! {
    api_keys (id) {
        id -> Uuid,
        name -> Text,
        prefix -> Text,
        token_hash -> Bytea,
        scopes -> Array<Text>,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        expires_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

// `journal.txid` (xid8) is left out: the application does not read it.
diesel::table! {
    journal (seq) {
        seq -> Int8,
        entity_type -> Text,
        entity_id -> Uuid,
        op -> Text,
        version -> Int8,
        key_id -> Nullable<Uuid>,
        changed_at -> Timestamptz,
        changed -> Array<Text>,
        before -> Nullable<Jsonb>,
        after -> Nullable<Jsonb>,
        feed_key -> Int8,
    }
}

diesel::table! {
    external_ids (entity_type, scheme, value) {
        entity_type -> Text,
        scheme -> Text,
        value -> Text,
        entity_id -> Uuid,
    }
}

diesel::table! {
    idempotency_keys (key_id, key) {
        key_id -> Uuid,
        key -> Text,
        request_hash -> Bytea,
        status -> Int2,
        headers -> Jsonb,
        body -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    key_cache_listeners (id) {
        id -> Uuid,
        lease_until -> Timestamptz,
    }
}

diesel::table! {
    key_cache_acks (probe, listener) {
        probe -> Uuid,
        listener -> Uuid,
        acked_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(api_keys, journal);
diesel::allow_tables_to_appear_in_same_query!(key_cache_listeners, key_cache_acks);
