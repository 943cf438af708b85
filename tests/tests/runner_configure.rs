//! `DestinationRunner::configure`: the connector's config and the `sdk.*` parameters parsed
//! from one map, each key by the config that declares it.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use conduit_connector::Config;
use conduit_connector::destination::{Batch, BoxError, ConfigureError, Destination, DestinationRunner, WriteResult};
use conduit_connector::middleware::DefaultDestinationMiddleware;

/// Polls a future that completes without waiting.
fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("configure waited"),
    }
}

/// A config that flattens the middleware in (as DESIGN §3 shows).
#[derive(Debug, Config)]
struct WithSdk {
    #[param(required)]
    name: String,
    #[param(flatten)]
    sdk: DefaultDestinationMiddleware,
}

struct Keep(WithSdk);

impl Destination for Keep {
    type Config = WithSdk;
    async fn configure(config: WithSdk) -> Result<Self, BoxError> {
        Ok(Keep(config))
    }
    async fn write(&mut self, _batch: Batch<'_>) -> WriteResult {
        WriteResult::All
    }
}

#[test]
fn a_connector_config_that_flattens_the_middleware_sees_the_sdk_keys() {
    let runner = ready(DestinationRunner::<Keep>::configure([("name", "x"), (" sdk.batch.size ", "7")])).unwrap();
    // Both the SDK's middleware and the connector's own copy got the key.
    assert_eq!(runner.settings().batch_size, 7);
    assert_eq!(runner.destination().0.sdk.batch_size, 7);
    assert_eq!(runner.destination().0.name, "x");
    let params = DestinationRunner::<Keep>::parameters();
    assert!(params.get("sdk.batch.size").is_some() && params.get("name").is_some());
}

#[test]
fn errors_of_both_configs_and_of_trimming_come_together_sorted() {
    let errors = match ready(DestinationRunner::<Keep>::configure([
        ("nmae", "x"),
        ("sdk.batch.size", "-3"),
        ("sdk.rate.perSecnd", "1"),
    ])) {
        Err(ConfigureError::Invalid(errors)) => errors,
        Err(other) => panic!("expected config errors, got {other}"),
        Ok(_) => panic!("expected config errors"),
    };
    let keys: Vec<&str> = errors.iter().map(|e| e.key()).collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{keys:?}");
    assert!(keys.contains(&"name") && keys.contains(&"nmae") && keys.contains(&"sdk.rate.perSecnd"), "{errors}");
    assert!(
        errors
            .to_string()
            .contains(r#""sdk.rate.perSecnd": unrecognized parameter (did you mean "sdk.rate.perSecond"?)"#),
        "{errors}"
    );
}

/// A config without the middleware flattened in.
#[derive(Debug, Config)]
struct Plain {
    #[param(default = "x")]
    name: String,
}

struct Discard;

impl Destination for Discard {
    type Config = Plain;
    async fn configure(config: Plain) -> Result<Self, BoxError> {
        assert_eq!(config.name, "x");
        Ok(Discard)
    }
    async fn write(&mut self, _batch: Batch<'_>) -> WriteResult {
        WriteResult::All
    }
}

#[test]
fn a_misspelt_sdk_key_without_its_prefix_suggests_the_sdk_parameter() {
    let errors = match ready(DestinationRunner::<Discard>::configure([("sdk.batchsize", "7"), ("batchsize", "7")])) {
        Err(ConfigureError::Invalid(errors)) => errors,
        Err(other) => panic!("expected config errors, got {other}"),
        Ok(_) => panic!("expected config errors"),
    };
    let text = errors.to_string();
    assert!(text.contains(r#""batchsize": unrecognized parameter (did you mean "sdk.batch.size"?)"#), "{text}");
    assert!(text.contains(r#""sdk.batchsize": unrecognized parameter (did you mean "sdk.batch.size"?)"#), "{text}");
    // A key close to one of the connector's own keeps that suggestion.
    let errors = match ready(DestinationRunner::<Discard>::configure([("nmae", "y")])) {
        Err(ConfigureError::Invalid(errors)) => errors,
        _ => panic!("expected config errors"),
    };
    assert_eq!(errors.to_string(), r#""nmae": unrecognized parameter (did you mean "name"?)"#);
}
