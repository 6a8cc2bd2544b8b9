//! Integration tests: the app on a random port against real PostgreSQL,
//! one fresh database per test. One binary, so it links once.

mod helpers;

mod health;
mod http_errors;
mod openapi;
mod organizations;
mod startup;
