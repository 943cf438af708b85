//! Test helpers for connector authors: the Go SDK's destination and
//! specifier acceptance tests as one call, and config assertions.
//!
//! ```ignore
//! #[tokio::test]
//! async fn acceptance() {
//!     let dir = tempfile::tempdir().unwrap();
//!     conduit_connector::testing::DestinationAcceptance::<MyDestination>::new(my_spec())
//!         .config([("directory", dir.path().to_str().unwrap())])
//!         .read_back(move |_written| read_files(dir.path()))
//!         .run()
//!         .await
//!         .assert_passed();
//! }
//! ```

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::config::{Config, ConfigErrors, ConfigMap, IntoConfigMap};
use crate::destination::{Destination, DestinationRunner};
use crate::middleware::SchemaExtraction;
use crate::opencdc::{Change, Data, Metadata, Operation, Position, Record, StructuredData};
use crate::schema::SchemaService;
use crate::spec::Specification;

pub use crate::spec::assert_spec_current;

/// Asserts that `config` parses into `C`, returning the value.
#[track_caller]
pub fn assert_config_valid<C: Config>(config: impl IntoConfigMap) -> C {
    match C::from_config(config) {
        Ok(c) => c,
        Err(e) => panic!("expected a valid config, got {} error(s):\n{e}", e.len()),
    }
}

/// Asserts that `config` fails to parse into `C` with exactly these error
/// texts (in the order reported: sorted by key).
#[track_caller]
pub fn assert_config_errors<C: Config + fmt::Debug>(config: impl IntoConfigMap, expected: &[&str]) -> ConfigErrors {
    match C::from_config(config) {
        Ok(c) => panic!("expected config errors {expected:#?}, but the config parsed: {c:#?}"),
        Err(errors) => {
            let got: Vec<String> = errors.iter().map(ToString::to_string).collect();
            assert_eq!(got, expected, "config errors differ");
            errors
        }
    }
}

/// A small deterministic random generator (xorshift64*), so acceptance
/// runs are reproducible from their seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is replaced by a fixed constant).
    pub fn new(seed: u64) -> Self {
        Rng(if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }

    /// `len` characters from the Go SDK's printable alphabet.
    pub fn string(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        (0..len).map(|_| ALPHABET[(self.next_u64() % ALPHABET.len() as u64) as usize] as char).collect()
    }
}

/// A record like the Go SDK's acceptance generator makes: a random 32-char
/// position, the operation, one random metadata pair, a raw 32-char key, and
/// a payload (`after`) that is raw (32..1055 chars) or structured (random
/// keys with bool/int/float/string values), alternating by `i`.
pub fn generate_record(rng: &mut Rng, i: usize, operation: Operation) -> Record {
    let mut metadata = Metadata::default();
    metadata.0.insert(rng.string(32), rng.string(32));
    let after = if i.is_multiple_of(2) {
        let len = rng.range(32, 1055);
        Data::Raw(rng.string(len).into_bytes())
    } else {
        let mut map = StructuredData::new();
        for j in 0..rng.range(1, 4) {
            let len = rng.range(32, 64);
            let key = rng.string(len);
            let value = match j % 4 {
                0 => serde_json::Value::Bool(rng.next_u64().is_multiple_of(2)),
                1 => serde_json::Value::from((rng.next_u64() % 1_000_000) as f64),
                2 => serde_json::Value::from(rng.range(0, 10_000) as f64 / 8.0),
                _ => {
                    let len = rng.range(32, 128);
                    serde_json::Value::String(rng.string(len))
                }
            };
            map.insert(key, value);
        }
        Data::Structured(map)
    };
    Record {
        position: Position(rng.string(32).into_bytes()),
        operation,
        metadata,
        key: Some(Data::Raw(rng.string(32).into_bytes())),
        payload: Change { before: None, after: Some(after) },
    }
}

/// Whether `name` is a wildcard parameter (`headers.*`, `routes.*.target`).
fn is_wildcard(name: &str) -> bool {
    name.split('.').any(|segment| segment == "*")
}

/// Why a parameter name cannot be used as a key of a Conduit config, if it cannot.
///
/// Go's destination acceptance test allows only `^[a-zA-Z0-9.]+$`, which rejects names this
/// SDK (and Go's own paramgen) produces for valid configs: wildcard parameters of maps
/// (`headers.*`) and names set with `#[param(name = "my-name")]`. The harness checks what a
/// config key needs instead: dot-separated segments, none empty, no whitespace or control
/// characters, `*` only as a whole segment.
fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("contains whitespace or a control character")
    } else if name.split('.').any(str::is_empty) {
        Some("starts or ends with `.` or has an empty segment")
    } else if name.split('.').any(|segment| segment != "*" && segment.contains('*')) {
        Some("has `*` inside a segment (a wildcard is a whole segment, as in `headers.*`)")
    } else {
        None
    }
}

type ReadBack = Box<dyn Fn(&[Record]) -> Result<Vec<Record>, String> + Send + Sync>;
type Generator = Box<dyn Fn(&mut Rng, usize, Operation) -> Record + Send + Sync>;

/// The destination and specifier acceptance tests of the Go SDK
/// (`sdk.AcceptanceTest`), for any [`Destination`].
///
/// Tests: `Specifier_Specify_Success`, `Destination_Parameters_Success`,
/// `Destination_Configure_Success`, `Destination_Configure_RequiredParams`
/// (one per required parameter), `Destination_Write_Success` (20 snapshot
/// records through the full SDK stack, all acked without error, then read
/// back with the driver's `read_back` and compared as Go does).
///
/// Two deliberate differences from Go: `Destination_Parameters_Success` accepts every name
/// a config key can have — wildcard parameters (`headers.*`) and names such as
/// `#[param(name = "my-name")]` included — where Go allows only `^[a-zA-Z0-9.]+$`; it still
/// fails empty segments, whitespace, control characters and a `*` inside a segment. And
/// `Destination_Configure_RequiredParams` leaves out required parameters under a wildcard
/// (`routes.*.target`): they are required per map entry, and a config without entries is
/// valid.
pub struct DestinationAcceptance<D: Destination> {
    spec: Specification,
    config: ConfigMap,
    read_back: Option<ReadBack>,
    generator: Generator,
    seed: u64,
    schema_service: Option<Arc<dyn SchemaService>>,
    _d: PhantomData<fn() -> D>,
}

impl<D: Destination> fmt::Debug for DestinationAcceptance<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DestinationAcceptance").field("spec", &self.spec.name).field("config", &self.config).finish()
    }
}

/// The outcome of one acceptance test.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    /// The Go test name, e.g. `TestDestination_Write_Success`.
    pub name: String,
    /// Every failure found (empty = passed).
    pub failures: Vec<String>,
}

/// The outcome of a whole acceptance run.
#[derive(Debug, Clone)]
pub struct AcceptanceReport {
    /// One entry per test, in the order run.
    pub tests: Vec<TestOutcome>,
}

impl AcceptanceReport {
    /// Whether every test passed.
    pub fn passed(&self) -> bool {
        self.tests.iter().all(|t| t.failures.is_empty())
    }

    /// Panics with every failure when a test failed.
    #[track_caller]
    pub fn assert_passed(&self) {
        if !self.passed() {
            panic!("acceptance tests failed:\n{self}");
        }
    }

    /// The failures of the test called `name`.
    pub fn failures_of(&self, name: &str) -> Option<&[String]> {
        self.tests.iter().find(|t| t.name == name).map(|t| t.failures.as_slice())
    }
}

impl fmt::Display for AcceptanceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for t in &self.tests {
            if t.failures.is_empty() {
                writeln!(f, "ok   {}", t.name)?;
            } else {
                writeln!(f, "FAIL {}", t.name)?;
                for e in &t.failures {
                    writeln!(f, "       {e}")?;
                }
            }
        }
        Ok(())
    }
}

impl<D: Destination> DestinationAcceptance<D> {
    /// Acceptance tests for `D` with its specification (the `serve` one:
    /// destination parameters are filled in from `D` when empty).
    pub fn new(spec: Specification) -> Self {
        let spec = if spec.destination_params.is_empty() { spec.with_destination::<D>() } else { spec };
        DestinationAcceptance {
            spec,
            config: ConfigMap::new(),
            read_back: None,
            generator: Box::new(generate_record),
            seed: 1,
            schema_service: None,
            _d: PhantomData,
        }
    }

    /// A valid destination config (Go driver's `DestinationConfig`).
    pub fn config(mut self, config: impl IntoConfigMap) -> Self {
        let mut map = ConfigMap::new();
        config.for_each_entry(&mut |k, v| {
            map.insert(k, v);
        });
        self.config = map;
        self
    }

    /// Reads back what the destination wrote (Go driver's
    /// `ReadFromDestination`), given the records written. Without it, the
    /// write test checks only the acks.
    pub fn read_back(mut self, f: impl Fn(&[Record]) -> Result<Vec<Record>, String> + Send + Sync + 'static) -> Self {
        self.read_back = Some(Box::new(f));
        self
    }

    /// Replaces the record generator (Go driver's `GenerateRecord`).
    pub fn generate(mut self, f: impl Fn(&mut Rng, usize, Operation) -> Record + Send + Sync + 'static) -> Self {
        self.generator = Box::new(f);
        self
    }

    /// Runs the write test with a schema service, so generated records may
    /// be schema-encoded as a Go source sends them (Avro bytes with
    /// `opencdc.*.schema.*` metadata). The records read back are then
    /// compared with the records as decoded by the SDK — what the
    /// destination was given.
    pub fn schema_service(mut self, service: Arc<dyn SchemaService>) -> Self {
        self.schema_service = Some(service);
        self
    }

    /// Sets the random seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Runs every test and reports the outcome (never panics on a failing
    /// destination: failures are collected).
    pub async fn run(self) -> AcceptanceReport {
        let mut tests = vec![
            TestOutcome { name: "TestSpecifier_Specify_Success".into(), failures: self.specify_success() },
            TestOutcome { name: "TestDestination_Parameters_Success".into(), failures: self.parameters_success() },
            TestOutcome { name: "TestDestination_Configure_Success".into(), failures: self.configure_success().await },
        ];
        for (name, failures) in self.configure_required().await {
            tests.push(TestOutcome { name: format!("TestDestination_Configure_RequiredParams/{name}"), failures });
        }
        tests.push(TestOutcome { name: "TestDestination_Write_Success".into(), failures: self.write_success().await });
        AcceptanceReport { tests }
    }

    fn specify_success(&self) -> Vec<String> {
        let s = &self.spec;
        let mut failures = Vec::new();
        for (field, value) in [
            ("name", &s.name),
            ("summary", &s.summary),
            ("description", &s.description),
            ("version", &s.version),
            ("author", &s.author),
        ] {
            if value.is_empty() {
                failures.push(format!("specification {field} is empty"));
            } else if value.trim() != value {
                failures.push(format!("specification {field} {value:?} has leading or trailing whitespace"));
            }
        }
        let semver = regex_lite::Regex::new(
            r"v([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?",
        )
        .expect("valid regex");
        if !s.version.is_empty() && s.version != "(devel)" && !semver.is_match(&s.version) {
            failures.push(format!("specification version {:?} is not a semantic version like v1.2.3", s.version));
        }
        failures
    }

    fn parameters_success(&self) -> Vec<String> {
        let params = &self.spec.destination_params;
        let mut failures = Vec::new();
        if params.is_empty() {
            failures.push("the destination has no parameters".to_owned());
        }
        for (name, p) in params.iter() {
            if let Some(problem) = name_problem(name) {
                failures.push(format!("parameter name {name:?} {problem}"));
            }
            if p.description.is_empty() {
                failures.push(format!("parameter {name:?} has no description"));
            }
        }
        failures
    }

    async fn configure_success(&self) -> Vec<String> {
        match DestinationRunner::<D>::configure(&self.config).await {
            Ok(mut runner) => match runner.teardown().await {
                Ok(()) => Vec::new(),
                Err(e) => vec![format!("teardown without open failed: {e}")],
            },
            Err(e) => vec![format!("configure with the driver's config failed: {e}")],
        }
    }

    async fn configure_required(&self) -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        for (name, p) in self.spec.destination_params.iter() {
            // Required under a wildcard (`routes.*.target`) means required in each map entry
            // that exists; a config without entries is valid, so there is no key to remove.
            if !p.is_required() || is_wildcard(name) {
                continue;
            }
            let mut failures = Vec::new();
            let mut config = self.config.clone();
            if config.remove(name).is_none() {
                failures.push(format!("required parameter {name:?} is missing from the driver's config"));
            }
            if let Ok(mut runner) = DestinationRunner::<D>::configure(&config).await {
                failures.push(format!("configure without required parameter {name:?} succeeded"));
                let _ = runner.teardown().await;
            }
            out.push((name.to_owned(), failures));
        }
        out
    }

    async fn write_success(&self) -> Vec<String> {
        let mut failures = Vec::new();
        let mut runner = match DestinationRunner::<D>::configure(&self.config).await {
            Ok(r) => r,
            Err(e) => return vec![format!("configure failed: {e}")],
        };
        runner.set_schema_service(self.schema_service.clone());
        if let Err(e) = runner.open().await {
            let _ = runner.teardown().await;
            return vec![format!("open failed: {e}")];
        }
        let mut rng = Rng::new(self.seed);
        let records: Vec<Record> = (0..20).map(|i| (self.generator)(&mut rng, i, Operation::Snapshot)).collect();
        // What the destination is given: the records after schema extraction.
        let mut expected = records.clone();
        if let Some(service) = &self.schema_service {
            let settings = runner.settings();
            let mut extraction = SchemaExtraction::new(settings.schema_extract_key, settings.schema_extract_payload);
            extraction.set_service(Some(service.clone()));
            for record in &mut expected {
                if let Err(e) = extraction.decode(record).await {
                    failures.push(format!(
                        "record {:?} cannot be decoded: {e}",
                        String::from_utf8_lossy(&record.position.0)
                    ));
                }
            }
        }
        let mut acks = runner.write(records.clone()).await;
        acks.extend(runner.flush().await);
        if acks.len() != records.len() {
            failures.push(format!("wrote {} records but got {} acks", records.len(), acks.len()));
        }
        for (record, ack) in records.iter().zip(&acks) {
            if ack.position != record.position {
                failures.push(format!(
                    "ack out of order: expected position {:?}, got {:?}",
                    String::from_utf8_lossy(&record.position.0),
                    String::from_utf8_lossy(&ack.position.0)
                ));
                break;
            }
            if let Some(e) = &ack.error {
                failures.push(format!("record {:?} was nacked: {e}", String::from_utf8_lossy(&record.position.0)));
            }
        }
        if let Err(e) = runner.teardown().await {
            failures.push(format!("teardown failed: {e}"));
        }
        if let Some(read_back) = &self.read_back {
            match read_back(&expected) {
                Ok(got) => failures.extend(compare_records(&expected, got)),
                Err(e) => failures.push(format!("reading back from the destination failed: {e}")),
            }
        }
        failures
    }
}

fn data_bytes(d: &Option<Data>) -> Vec<u8> {
    d.as_ref().map(|d| d.bytes().into_owned()).unwrap_or_default()
}

fn data_eq(want: &Option<Data>, got: &Option<Data>) -> bool {
    match (want, got) {
        (None, _) | (_, None) => true,
        (Some(Data::Raw(a)), Some(Data::Raw(b))) => a == b,
        (Some(Data::Structured(a)), Some(Data::Structured(b))) => a == b,
        (Some(a), Some(b)) => a.bytes() == b.bytes(),
    }
}

/// Go's `isEqualRecords`: same count; both sorted by `payload.after` bytes;
/// operation equal (a snapshot may come back as create); key, before and
/// after equal (by bytes when the kinds differ); metadata keys present on
/// both sides equal.
pub fn compare_records(want: &[Record], mut got: Vec<Record>) -> Vec<String> {
    let mut failures = Vec::new();
    if want.len() != got.len() {
        failures.push(format!("expected {} records back, got {}", want.len(), got.len()));
        return failures;
    }
    let mut want: Vec<Record> = want.to_vec();
    want.sort_by_key(|r| data_bytes(&r.payload.after));
    got.sort_by_key(|r| data_bytes(&r.payload.after));
    for (w, g) in want.iter().zip(&got) {
        let pos = String::from_utf8_lossy(&w.position.0).into_owned();
        let op_ok =
            w.operation == g.operation || (w.operation == Operation::Snapshot && g.operation == Operation::Create);
        if !op_ok {
            failures.push(format!("record {pos:?}: operation {} came back as {}", w.operation, g.operation));
        }
        if !data_eq(&w.key, &g.key) {
            failures.push(format!("record {pos:?}: key differs"));
        }
        if !data_eq(&w.payload.before, &g.payload.before) {
            failures.push(format!("record {pos:?}: payload.before differs"));
        }
        if !data_eq(&w.payload.after, &g.payload.after) {
            failures.push(format!("record {pos:?}: payload.after differs"));
        }
        for (k, v) in &g.metadata.0 {
            if let Some(wv) = w.metadata.0.get(k)
                && wv != v
            {
                failures.push(format!("record {pos:?}: metadata {k:?} is {v:?}, expected {wv:?}"));
            }
        }
    }
    failures
}
