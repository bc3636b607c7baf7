//! How memory entries map onto the MCP memory server's knowledge graph.
//!
//! The reference server (`@modelcontextprotocol/server-memory`) keeps *entities* (a name, an
//! entity type, a list of observation strings) and *relations*. orchestra uses entities only:
//!
//! | memory            | knowledge graph                                                     |
//! |-------------------|---------------------------------------------------------------------|
//! | key               | entity `name`                                                       |
//! | (marks ours)      | `entityType` = `orchestra.memory`                                   |
//! | value + expiry    | one observation: JSON `{"value": …, "expires_at": "RFC 3339"\|null}` |
//! | store             | `delete_entities [key]`, then `create_entities [entity]`            |
//! | retrieve          | `open_nodes [key]`; the entity's last observation                   |
//! | forget            | `open_nodes [key]` (did it exist?), then `delete_entities [key]`    |
//! | list prefix       | `search_nodes prefix` (or `read_graph` for ""), names filtered by prefix |
//!
//! Entities of any other type (an agent's own notes in the same graph) are never read,
//! listed or changed, except that `store` replaces a same-named entity.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::super::{MemoryEntry, ms_to_rfc3339, rfc3339_to_ms};

/// The entity type that marks an entity as an orchestra memory entry.
pub const ENTITY_TYPE: &str = "orchestra.memory";

/// The one observation of an entry.
#[derive(Serialize, Deserialize)]
struct Observation {
    value: Value,
    expires_at: Option<String>,
}

/// An entity as the server returns it.
#[derive(Debug, Deserialize)]
pub struct Entity {
    /// The entity's name: the memory key.
    pub name: String,
    /// Its type.
    #[serde(rename = "entityType")]
    pub entity_type: String,
    /// Its observations.
    #[serde(default)]
    pub observations: Vec<String>,
}

#[derive(Deserialize)]
struct Graph {
    #[serde(default)]
    entities: Vec<Entity>,
}

/// The entity `create_entities` is given for `key` holding `entry`.
pub fn entity(key: &str, entry: &MemoryEntry) -> Value {
    let observation = Observation {
        value: entry.value.clone(),
        expires_at: entry.expires_at.map(ms_to_rfc3339),
    };
    json!({
        "name": key,
        "entityType": ENTITY_TYPE,
        "observations": [serde_json::to_string(&observation).unwrap_or_default()],
    })
}

/// The entities of a graph answer (`open_nodes`, `search_nodes`, `read_graph`).
pub fn entities(answer: Value) -> Result<Vec<Entity>, String> {
    serde_json::from_value::<Graph>(answer)
        .map(|g| g.entities)
        .map_err(|e| format!("the MCP memory server answered with an unexpected graph: {e}"))
}

/// The entry an entity holds, if it is one of ours and its last observation is an entry.
pub fn entry_of(entity: &Entity) -> Option<MemoryEntry> {
    if entity.entity_type != ENTITY_TYPE {
        return None;
    }
    let observation: Observation = serde_json::from_str(entity.observations.last()?).ok()?;
    let expires_at = match observation.expires_at {
        Some(text) => Some(rfc3339_to_ms(&text)?),
        None => None,
    };
    Some(MemoryEntry {
        value: observation.value,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_round_trips_through_its_entity() {
        let entry = MemoryEntry {
            value: json!({"model": "gemini-2.5-flash", "temperature": 0.2}),
            expires_at: Some(1_767_225_600_000),
        };
        let answer = json!({ "entities": [entity("planner/context", &entry)], "relations": [] });
        let found = entities(answer).unwrap();
        assert_eq!(found[0].name, "planner/context");
        assert_eq!(entry_of(&found[0]), Some(entry));
    }

    #[test]
    fn other_entities_are_not_ours() {
        let other = Entity {
            name: "planner/context".into(),
            entity_type: "person".into(),
            observations: vec!["{\"value\":1,\"expires_at\":null}".into()],
        };
        assert_eq!(entry_of(&other), None);
    }
}
