//! Integration tests: the app on a random port against real PostgreSQL,
//! one fresh database per test. One binary, so it links once.

mod helpers;
mod private_cluster;

mod access;
mod areas;
mod conditions;
mod events;
mod faults;
mod generate;
mod health;
mod http_errors;
mod imports;
mod inputs;
mod key_cache;
mod layout;
mod observability;
mod openapi;
mod organizations;
mod people;
mod popolo;
mod popolo_fields;
mod popolo_import;
mod posts;
mod posts_and_interchange;
mod register;
mod replicas;
mod roles;
mod startup;
mod sync;
mod trust;
mod workers;
