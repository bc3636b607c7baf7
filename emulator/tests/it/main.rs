//! Emulator tests over real HTTP on 127.0.0.1: one test binary, a module per service.

mod admin;
mod bad_input;
mod faults;
mod github;
mod github_routes;
mod google_clients;
mod harness;
mod iam;
mod limits;
mod monitoring;
mod octocrab_client;
mod persistence;
mod secret_manager;
mod slack;
mod wif_delete;
