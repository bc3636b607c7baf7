//! Emulator tests over real HTTP on 127.0.0.1: one test binary, a module per service.

mod faults;
mod github;
mod harness;
mod iam;
mod persistence;
mod secret_manager;
mod slack;
