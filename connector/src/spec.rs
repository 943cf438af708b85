//! The connector specification and its documentation forms.

use crate::config::Parameters;

/// What a connector is: name, summary, description, version, author and the
/// parameters of its source and destination.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Specification {
    /// The connector's name (`directory`).
    pub name: String,
    /// One line about it.
    pub summary: String,
    /// A longer description.
    pub description: String,
    /// Its version (`v0.1.0`).
    pub version: String,
    /// Who wrote it.
    pub author: String,
    /// Parameters of the source (empty when there is none).
    pub source_params: Parameters,
    /// Parameters of the destination (empty when there is none).
    pub destination_params: Parameters,
}
