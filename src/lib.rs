//! Alliance registry: a JSON REST API keeping the register of an alliance of
//! organizations — its member units, the people in them, the posts they hold
//! and the events the alliance runs.
//!
//! Layout: [`domain`] holds the register's values, each owning its rule;
//! [`config`] reads settings, [`db`] owns the pool, migrations and
//! schema, [`store`] holds plain synchronous diesel functions, [`api`] holds
//! the HTTP handlers and their OpenAPI description, and [`app`] wires them
//! into a server, [`metrics`] counts what it does. [`client`] is the command line's client of a running
//! server (imports and exports over HTTP), apart from all of them.

pub mod api;
pub mod app;
pub mod auth;
pub mod client;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod logging;
pub mod metrics;
pub mod request_id;
pub mod store;
