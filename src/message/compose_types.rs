//! temporary
pub use crate::compose::{LocalImage, Rendered};
