//! The acceptance harness fails, with a useful message, for deliberately
//! broken destinations, and passes for a correct in-memory one.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use conduit_connector::Config;
use conduit_connector::destination::{Batch, BoxError, Destination, WriteResult};
use conduit_connector::opencdc::{Change, Data, Operation, Record};
use conduit_connector::spec::Specification;
use conduit_connector::testing::{AcceptanceReport, DestinationAcceptance};

/// A store shared by every destination instance of one test (keyed by the
/// `bucket` parameter, so tests running in parallel do not mix).
type Store = Arc<Mutex<BTreeMap<Vec<u8>, Record>>>;

fn store(bucket: &str) -> Store {
    static STORES: Mutex<BTreeMap<String, Store>> = Mutex::new(BTreeMap::new());
    STORES.lock().unwrap().entry(bucket.to_owned()).or_default().clone()
}

/// The parameters of the good destination.
#[derive(Debug, Config)]
struct MemoryConfig {
    /// Where the records are kept.
    #[param(required)]
    bucket: String,
}

/// Keeps every record by key: a correct destination.
#[derive(Debug)]
struct Memory {
    store: Store,
}

impl Destination for Memory {
    type Config = MemoryConfig;

    async fn configure(config: MemoryConfig) -> Result<Self, BoxError> {
        Ok(Memory { store: store(&config.bucket) })
    }

    async fn write(&mut self, batch: Batch<'_>) -> WriteResult {
        let mut store = self.store.lock().unwrap();
        for r in batch.records() {
            store.insert(r.key.as_ref().map(|k| k.bytes().into_owned()).unwrap_or_default(), r.clone());
        }
        WriteResult::All
    }
}

/// Nacks every record.
#[derive(Debug)]
struct NacksEverything;

impl Destination for NacksEverything {
    type Config = MemoryConfig;

    async fn configure(_: MemoryConfig) -> Result<Self, BoxError> {
        Ok(NacksEverything)
    }

    async fn write(&mut self, _batch: Batch<'_>) -> WriteResult {
        WriteResult::stopped(0, "disk on fire")
    }
}

/// The parameters of a destination that forgot to mark `bucket` required.
#[derive(Debug, Config)]
struct LaxConfig {
    /// Where the records are kept.
    #[param(default = "")]
    bucket: String,
}

/// Accepts a config without its (documented as) required parameter.
#[derive(Debug)]
struct AcceptsMissingRequired;

impl Destination for AcceptsMissingRequired {
    type Config = LaxConfig;

    async fn configure(config: LaxConfig) -> Result<Self, BoxError> {
        tracing::debug!(bucket = %config.bucket, "configured without checking the bucket");
        Ok(AcceptsMissingRequired)
    }

    async fn write(&mut self, _batch: Batch<'_>) -> WriteResult {
        WriteResult::All
    }
}

fn spec() -> Specification {
    Specification {
        name: "memory".into(),
        summary: "Keeps records in memory.".into(),
        description: "A destination for testing the acceptance harness.".into(),
        version: "v0.1.0".into(),
        author: "Tests".into(),
        ..Specification::default()
    }
}

fn read_back_all(bucket: &'static str) -> impl Fn(&[Record]) -> Result<Vec<Record>, String> + Send + Sync {
    move |_written| Ok(store(bucket).lock().unwrap().values().cloned().collect())
}

#[track_caller]
fn failures<'a>(report: &'a AcceptanceReport, test: &str) -> &'a [String] {
    report.failures_of(test).unwrap_or_else(|| panic!("no test {test} in the report:\n{report}"))
}

#[track_caller]
fn assert_any(failures: &[String], needle: &str) {
    assert!(failures.iter().any(|f| f.contains(needle)), "no failure mentions {needle:?}: {failures:#?}");
}

#[tokio::test]
async fn a_correct_destination_passes_every_test() {
    let report = DestinationAcceptance::<Memory>::new(spec())
        .config([("bucket", "good")])
        .read_back(read_back_all("good"))
        .run()
        .await;
    report.assert_passed();
    let names: Vec<&str> = report.tests.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "TestSpecifier_Specify_Success",
            "TestDestination_Parameters_Success",
            "TestDestination_Configure_Success",
            "TestDestination_Configure_RequiredParams/bucket",
            "TestDestination_Write_Success",
        ]
    );
    assert_eq!(store("good").lock().unwrap().len(), 20);
}

#[tokio::test]
async fn a_destination_that_nacks_everything_fails_the_write_test() {
    let report = DestinationAcceptance::<NacksEverything>::new(spec()).config([("bucket", "nack")]).run().await;
    assert!(!report.passed());
    let f = failures(&report, "TestDestination_Write_Success");
    assert_eq!(f.len(), 20, "one failure per nacked record: {f:#?}");
    assert!(f.iter().all(|e| e.starts_with("record \"") && e.ends_with("\" was nacked: disk on fire")), "{f:#?}");
    assert!(failures(&report, "TestDestination_Configure_Success").is_empty());
    let text = report.to_string();
    assert!(text.contains("FAIL TestDestination_Write_Success"), "{text}");
    assert!(text.contains("ok   TestDestination_Configure_Success"), "{text}");
}

#[tokio::test]
async fn a_destination_whose_read_back_loses_a_record_fails_the_write_test() {
    let report = DestinationAcceptance::<Memory>::new(spec())
        .config([("bucket", "lossy")])
        .read_back(|_written| {
            let mut got: Vec<Record> = store("lossy").lock().unwrap().values().cloned().collect();
            got.pop();
            Ok(got)
        })
        .run()
        .await;
    assert_eq!(failures(&report, "TestDestination_Write_Success"), ["expected 20 records back, got 19"]);
}

#[tokio::test]
async fn a_read_back_with_a_changed_payload_names_the_record_and_the_field() {
    let report = DestinationAcceptance::<Memory>::new(spec())
        .config([("bucket", "corrupt")])
        .read_back(|written| {
            let mut got: Vec<Record> = store("corrupt").lock().unwrap().values().cloned().collect();
            let victim = got.iter_mut().find(|r| r.key == written[0].key).unwrap();
            victim.payload.after = Some(Data::Raw(b"\x00corrupted".to_vec()));
            victim.operation = Operation::Delete;
            Ok(got)
        })
        .run()
        .await;
    let f = failures(&report, "TestDestination_Write_Success");
    assert_any(f, "payload.after differs");
    assert_any(f, "operation snapshot came back as delete");
}

#[tokio::test]
async fn a_failing_read_back_is_reported() {
    let report = DestinationAcceptance::<Memory>::new(spec())
        .config([("bucket", "unreadable")])
        .read_back(|_| Err("permission denied".to_owned()))
        .run()
        .await;
    assert_eq!(
        failures(&report, "TestDestination_Write_Success"),
        ["reading back from the destination failed: permission denied"]
    );
}

#[tokio::test]
async fn a_spec_with_an_empty_author_and_a_bad_version_fails_the_specifier_test() {
    let broken = Specification { author: String::new(), version: "0.1".into(), summary: " padded ".into(), ..spec() };
    let report = DestinationAcceptance::<Memory>::new(broken).config([("bucket", "spec")]).run().await;
    let f = failures(&report, "TestSpecifier_Specify_Success");
    assert_any(f, "specification author is empty");
    assert_any(f, "specification version \"0.1\" is not a semantic version");
    assert_any(f, "specification summary \" padded \" has leading or trailing whitespace");
    assert!(failures(&report, "TestDestination_Write_Success").is_empty());
    let text = std::panic::catch_unwind(|| report.assert_passed()).unwrap_err();
    let text = text.downcast_ref::<String>().unwrap();
    assert!(text.contains("acceptance tests failed") && text.contains("specification author is empty"), "{text}");
}

#[tokio::test]
async fn a_destination_accepting_a_config_without_a_required_param_fails() {
    // The spec claims `bucket` is required, the config type does not enforce it.
    let mut lying = spec();
    lying.destination_params =
        conduit_connector::destination::DestinationRunner::<AcceptsMissingRequired>::parameters();
    let mut bucket = lying.destination_params.get("bucket").unwrap().clone();
    bucket.validations.push(conduit_connector::Validation::Required);
    lying.destination_params.insert("bucket", bucket);
    let report = DestinationAcceptance::<AcceptsMissingRequired>::new(lying).config([("bucket", "x")]).run().await;
    assert_eq!(
        failures(&report, "TestDestination_Configure_RequiredParams/bucket"),
        ["configure without required parameter \"bucket\" succeeded"]
    );
}

#[tokio::test]
async fn a_driver_config_missing_a_required_param_fails_configure_success() {
    let report = DestinationAcceptance::<Memory>::new(spec()).config([("nothing", "here")]).run().await;
    let configure = failures(&report, "TestDestination_Configure_Success");
    assert_eq!(configure.len(), 1, "{configure:#?}");
    assert!(configure[0].starts_with("configure with the driver's config failed: config invalid"), "{configure:#?}");
    assert_eq!(
        failures(&report, "TestDestination_Configure_RequiredParams/bucket"),
        ["required parameter \"bucket\" is missing from the driver's config"]
    );
}

#[tokio::test]
async fn unusable_parameter_names_or_missing_descriptions_fail_the_parameters_test() {
    let mut bad = spec().with_destination::<Memory>();
    for name in ["my param", "a..b", ".lead", "trail.", "head*ers.x", "tab\tname"] {
        let described = conduit_connector::Parameter { description: "described".into(), ..Default::default() };
        bad.destination_params.insert(name, described);
    }
    bad.destination_params.insert("undescribed", conduit_connector::Parameter::default());
    let report = DestinationAcceptance::<Memory>::new(bad).config([("bucket", "params")]).run().await;
    let f = failures(&report, "TestDestination_Parameters_Success");
    assert_any(f, "parameter name \"my param\" contains whitespace or a control character");
    assert_any(f, "parameter name \"tab\\tname\" contains whitespace or a control character");
    assert_any(f, "parameter name \"a..b\" starts or ends with `.` or has an empty segment");
    assert_any(f, "parameter name \".lead\" starts or ends with `.` or has an empty segment");
    assert_any(f, "parameter name \"trail.\" starts or ends with `.` or has an empty segment");
    assert_any(f, "parameter name \"head*ers.x\" has `*` inside a segment");
    assert_any(f, "parameter \"undescribed\" has no description");
    assert_eq!(f.len(), 7, "{f:#?}");
}

/// One entry of [`NamedConfig::routes`].
#[derive(Debug, Config)]
struct Route {
    /// Where the route goes.
    #[param(required)]
    target: String,
}

/// Parameters a newcomer writes: a renamed field with a dash, the SDK's wildcard parameters
/// of maps (one of them with a required field per entry).
#[derive(Debug, Config)]
struct NamedConfig {
    /// Where the records are kept.
    #[param(required)]
    bucket: String,
    /// A label with a dash in its name.
    #[param(name = "my-name")]
    label: Option<String>,
    /// Extra headers.
    headers: std::collections::HashMap<String, String>,
    /// Named routes.
    routes: std::collections::BTreeMap<String, Route>,
}

/// [`Memory`] with [`NamedConfig`].
#[derive(Debug)]
struct NamedMemory(Memory);

impl Destination for NamedMemory {
    type Config = NamedConfig;

    async fn configure(config: NamedConfig) -> Result<Self, BoxError> {
        let targets: Vec<&str> = config.routes.values().map(|r| r.target.as_str()).collect();
        tracing::debug!(label = ?config.label, headers = config.headers.len(), ?targets, "configured");
        Ok(NamedMemory(Memory { store: store(&config.bucket) }))
    }

    async fn write(&mut self, batch: Batch<'_>) -> WriteResult {
        self.0.write(batch).await
    }
}

#[tokio::test]
async fn wildcard_parameters_and_renamed_parameters_with_dashes_pass() {
    let report = DestinationAcceptance::<NamedMemory>::new(spec())
        .config([("bucket", "named"), ("my-name", "x"), ("headers.a", "1"), ("routes.r1.target", "t")])
        .read_back(read_back_all("named"))
        .run()
        .await;
    report.assert_passed();
    let names: Vec<&str> = report.tests.iter().map(|t| t.name.as_str()).collect();
    assert!(names.contains(&"TestDestination_Configure_RequiredParams/bucket"), "{names:?}");
    assert!(
        !names.iter().any(|n| n.contains("routes.*.target")),
        "a required parameter under a wildcard is required per entry, not removed as a key: {names:?}"
    );
    let params = conduit_connector::destination::DestinationRunner::<NamedMemory>::parameters();
    for name in ["my-name", "headers.*", "routes.*.target"] {
        assert!(params.get(name).is_some(), "the spec has {name:?}");
    }
}

/// Writes every record but gives them all a different key back.
#[tokio::test]
async fn a_read_back_with_wrong_keys_fails() {
    let report = DestinationAcceptance::<Memory>::new(spec())
        .config([("bucket", "keys")])
        .read_back(|_| {
            Ok(store("keys")
                .lock()
                .unwrap()
                .values()
                .map(|r| Record {
                    key: Some(Data::Raw(b"same".to_vec())),
                    payload: Change { before: None, after: r.payload.after.clone() },
                    operation: Operation::Create,
                    ..Record::default()
                })
                .collect())
        })
        .run()
        .await;
    let f = failures(&report, "TestDestination_Write_Success");
    assert_eq!(f.len(), 20, "{f:#?}");
    assert!(f.iter().all(|e| e.ends_with(": key differs")), "{f:#?}");
}
