//! Helpers shared by the runtime's integration tests.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

/// A tracing subscriber that collects the messages of WARN events — all of them, or only
/// those containing the filter text.
#[derive(Debug, Clone, Default)]
pub struct Warnings(pub Arc<Mutex<Vec<String>>>, pub Option<&'static str>);

impl Warnings {
    /// Collects only the warnings whose message contains `text`.
    pub fn containing(text: &'static str) -> Self {
        Warnings(Arc::default(), Some(text))
    }

    /// The messages collected so far.
    pub fn messages(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

struct MessageVisitor(String);

impl tracing::field::Visit for MessageVisitor {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl tracing::Subscriber for Warnings {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if *event.metadata().level() == tracing::Level::WARN {
            let mut visitor = MessageVisitor(String::new());
            event.record(&mut visitor);
            if self.1.is_none_or(|text| visitor.0.contains(text)) {
                self.0.lock().unwrap().push(visitor.0);
            }
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
