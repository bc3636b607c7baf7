//! A primitive's arguments, taken out of Rhai's argument slots, with typed getters that fail
//! with the argument's position and the type expected.

use rhai::{Dynamic, ImmutableString, Map};

use super::types::PrimitiveError;
use crate::secret::Secret;

/// A primitive's arguments, taken out of Rhai's argument slots.
pub struct Args {
    values: Vec<Dynamic>,
}

impl Args {
    /// Takes the values out of Rhai's argument slots.
    pub(super) fn take(slots: &mut [&mut Dynamic]) -> Self {
        Self {
            values: slots.iter_mut().map(|a| std::mem::take(*a)).collect(),
        }
    }

    fn get(&self, index: usize) -> Result<&Dynamic, PrimitiveError> {
        self.values
            .get(index)
            .ok_or_else(|| PrimitiveError::new(format!("missing argument {}", index + 1)))
    }

    fn wrong(&self, index: usize, expected: &str) -> PrimitiveError {
        let found = self.values.get(index).map_or("nothing", Dynamic::type_name);
        PrimitiveError::new(format!(
            "argument {} must be {expected}, found {found}",
            index + 1
        ))
    }

    /// Argument `index` as a string.
    pub fn str(&self, index: usize) -> Result<ImmutableString, PrimitiveError> {
        self.get(index)?
            .clone()
            .into_immutable_string()
            .map_err(|_| self.wrong(index, "a string"))
    }

    /// Argument `index` as an integer.
    pub fn int(&self, index: usize) -> Result<i64, PrimitiveError> {
        self.get(index)?
            .as_int()
            .map_err(|_| self.wrong(index, "an integer"))
    }

    /// Argument `index` as a map.
    pub fn map(&self, index: usize) -> Result<Map, PrimitiveError> {
        self.get(index)?
            .clone()
            .try_cast::<Map>()
            .ok_or_else(|| self.wrong(index, "a map"))
    }

    /// Argument `index` as a Secret.
    pub fn secret(&self, index: usize) -> Result<Secret, PrimitiveError> {
        self.get(index)?
            .clone()
            .try_cast::<Secret>()
            .ok_or_else(|| self.wrong(index, "a Secret"))
    }

    /// Argument `index` as a function pointer or closure.
    pub fn function(&self, index: usize) -> Result<rhai::FnPtr, PrimitiveError> {
        self.get(index)?
            .clone()
            .try_cast::<rhai::FnPtr>()
            .ok_or_else(|| self.wrong(index, "a function"))
    }

    /// Argument `index` as it came.
    pub fn any(&self, index: usize) -> Result<&Dynamic, PrimitiveError> {
        self.get(index)
    }
}
