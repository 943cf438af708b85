//! The committed connector.yaml is what the connector generates
//! (`CONDUIT_UPDATE_SPEC=1 cargo test -p directory-destination --test spec`
//! rewrites it).

use conduit_connector::spec::{Specification, assert_spec_current};
use conduit_connector::{ParameterType, Validation};
use directory_destination::{DirectoryDestination, specification};

fn full_spec() -> Specification {
    specification().with_destination::<DirectoryDestination>()
}

#[test]
fn connector_yaml_is_current() {
    assert_spec_current(concat!(env!("CARGO_MANIFEST_DIR"), "/connector.yaml"), &full_spec());
}

#[test]
fn connector_yaml_reads_back_to_the_same_specification() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/connector.yaml")).unwrap();
    assert_eq!(Specification::from_yaml(&text).unwrap(), full_spec());
}

#[test]
fn destination_parameters_are_the_connectors_then_the_sdks() {
    let spec = full_spec();
    let params = &spec.destination_params;
    let directory = params.get("directory").unwrap();
    assert_eq!(directory.ty, ParameterType::String);
    assert_eq!(directory.validations, vec![Validation::Required]);
    let atomic = params.get("atomic").unwrap();
    assert_eq!((atomic.ty, atomic.default.as_str()), (ParameterType::Bool, "true"));
    let sync = params.get("sync").unwrap();
    assert_eq!((sync.ty, sync.default.as_str()), (ParameterType::String, "none"));
    assert_eq!(
        sync.validations,
        vec![Validation::Inclusion(vec!["none".to_owned(), "file".to_owned(), "batch".to_owned()])]
    );
    assert_eq!(params.len(), 3 + 8, "three own parameters and the eight sdk.* ones");
    assert!(params.iter().filter(|(n, _)| n.starts_with("sdk.")).count() == 8);
}
