//! The typed values the store reads and writes: ids and the enums of run and step states.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// The id of a run, as shown by `orchestra runs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct RunId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for RunId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim_start_matches('#')
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(RunId)
            .ok_or_else(|| format!("expected a run id (a positive number), found '{s}'"))
    }
}

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// The word stored in SQLite and shown to people.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// Parses the stored word.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(super) use text_enum;

text_enum! {
    /// Where a run stands.
    RunStatus {
        /// Started and not finished; its process is alive.
        Running => "running",
        /// Finished without error.
        Succeeded => "succeeded",
        /// Finished with an error.
        Failed => "failed",
        /// Its process died or was stopped before it finished.
        Interrupted => "interrupted",
    }
}

text_enum! {
    /// Whether a run makes changes.
    RunMode {
        /// Mutations are made.
        Apply => "apply",
        /// Mutations are only listed.
        Plan => "plan",
    }
}

text_enum! {
    /// Whether a journaled step reads or changes the world.
    StepEffect {
        /// Reads remote state.
        Read => "read",
        /// Changes remote or local state.
        Mutate => "mutate",
    }
}

text_enum! {
    /// Where a journaled step stands.
    StepStatus {
        /// Intent recorded; the outcome is not known yet (an interrupted run leaves these).
        Started => "started",
        /// Done.
        Succeeded => "succeeded",
        /// Failed; the detail says why.
        Failed => "failed",
        /// Plan mode: would have been done.
        Planned => "planned",
    }
}

text_enum! {
    /// Where a circuit breaker stands.
    BreakerState {
        /// Calls go through; consecutive failures are counted.
        Closed => "closed",
        /// Calls are refused until the recovery time has passed.
        Open => "open",
        /// One trial call is in flight; its outcome closes or reopens the breaker.
        HalfOpen => "half_open",
    }
}
