//! Conversions between the protocol's messages ([`super::proto`]) and the
//! SDK's own types: records, parameters and the specification.
//!
//! SDK → protocol never fails. Protocol → SDK returns a [`ProtoError`] for what
//! the SDK cannot represent: an operation other than create/update/delete/
//! snapshot, a parameter type it does not know, or a validation whose value
//! does not parse (Conduit's rules, reference §1.1).

use std::collections::BTreeMap;
use std::fmt;

use super::proto::config::v1 as pbconfig;
use super::proto::connector::v2 as pbconn;
use super::proto::opencdc::v1 as pbcdc;
use super::proto::opencdc::v1::value::Kind;
use crate::config::{Parameter, ParameterType, Parameters, Pattern, Validation};
use crate::opencdc::{Change, Data, Metadata, Operation, Position, Record, StructuredData};
use crate::spec::Specification;

/// A protocol message that has no SDK equivalent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtoError {
    /// A record's operation is `OPERATION_UNSPECIFIED` or a number Conduit
    /// does not define.
    #[error("record at position {}: unknown operation {}", PositionText(position), operation_text(*operation))]
    UnknownOperation {
        /// The record's position.
        position: Position,
        /// The operation's enum value.
        operation: i32,
    },
    /// A parameter's type is `TYPE_UNSPECIFIED` or a number Conduit does not
    /// define.
    #[error("error converting parameter {}: ParameterType({ty}): invalid parameter type", quote(parameter))]
    InvalidParameterType {
        /// The parameter's name.
        parameter: String,
        /// The type's enum value.
        ty: i32,
    },
    /// A parameter's validation could not be converted.
    #[error("error converting parameter {}: error converting validation: {reason}", quote(parameter))]
    InvalidValidation {
        /// The parameter's name.
        parameter: String,
        /// What was wrong with the validation.
        reason: ValidationError,
    },
}

/// Why a `config.v1.Validation` could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// The type is `TYPE_UNSPECIFIED` or a number Conduit does not define.
    #[error("{}: invalid validation type", quote(&validation_type_text(*.0)))]
    InvalidType(i32),
    /// A `greater-than` value is not a float.
    #[error("error parsing greater than value: {} is not a valid float", quote(.0))]
    GreaterThan(String),
    /// A `less-than` value is not a float.
    #[error("error parsing less than value: {} is not a valid float", quote(.0))]
    LessThan(String),
    /// A `regex` value does not compile.
    #[error("error compiling regex: {message}")]
    Regex {
        /// The pattern.
        pattern: String,
        /// The compiler's message.
        message: String,
    },
}

fn quote(s: &str) -> String {
    crate::config::go::quote(s)
}

/// A position as text for error messages: its bytes as (lossy) UTF-8, quoted.
struct PositionText<'a>(&'a Position);

impl fmt::Display for PositionText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&quote(&String::from_utf8_lossy(&self.0.0)))
    }
}

fn operation_text(value: i32) -> String {
    match pbcdc::Operation::try_from(value) {
        Ok(op) => op.as_str_name().to_owned(),
        Err(_) => format!("Operation({value})"),
    }
}

fn validation_type_text(value: i32) -> String {
    match pbconfig::validation::Type::try_from(value) {
        Ok(ty) => ty.as_str_name().to_owned(),
        Err(_) => value.to_string(),
    }
}

// ---------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------

impl From<Operation> for pbcdc::Operation {
    fn from(op: Operation) -> Self {
        match op {
            Operation::Create => pbcdc::Operation::Create,
            Operation::Update => pbcdc::Operation::Update,
            Operation::Delete => pbcdc::Operation::Delete,
            Operation::Snapshot => pbcdc::Operation::Snapshot,
        }
    }
}

/// The SDK operation of a protocol enum value; `None` for
/// `OPERATION_UNSPECIFIED` and unknown numbers.
pub fn operation_from_proto(value: i32) -> Option<Operation> {
    match pbcdc::Operation::try_from(value).ok()? {
        pbcdc::Operation::Unspecified => None,
        pbcdc::Operation::Create => Some(Operation::Create),
        pbcdc::Operation::Update => Some(Operation::Update),
        pbcdc::Operation::Delete => Some(Operation::Delete),
        pbcdc::Operation::Snapshot => Some(Operation::Snapshot),
    }
}

impl From<Record> for pbcdc::Record {
    fn from(record: Record) -> Self {
        pbcdc::Record {
            position: record.position.0,
            operation: pbcdc::Operation::from(record.operation) as i32,
            metadata: record.metadata.0,
            key: record.key.map(pbcdc::Data::from),
            payload: Some(pbcdc::Change {
                before: record.payload.before.map(pbcdc::Data::from),
                after: record.payload.after.map(pbcdc::Data::from),
            }),
        }
    }
}

impl TryFrom<pbcdc::Record> for Record {
    type Error = ProtoError;

    /// Converts a protocol record. A `Data` with neither branch set is `None`;
    /// an absent payload is an empty [`Change`].
    fn try_from(record: pbcdc::Record) -> Result<Self, ProtoError> {
        let position = Position(record.position);
        let Some(operation) = operation_from_proto(record.operation) else {
            return Err(ProtoError::UnknownOperation { position, operation: record.operation });
        };
        let payload = record.payload.unwrap_or_default();
        Ok(Record {
            position,
            operation,
            metadata: Metadata(record.metadata),
            key: record.key.and_then(data_from_proto),
            payload: Change {
                before: payload.before.and_then(data_from_proto),
                after: payload.after.and_then(data_from_proto),
            },
        })
    }
}

impl From<Data> for pbcdc::Data {
    fn from(data: Data) -> Self {
        let data = match data {
            Data::Raw(bytes) => pbcdc::data::Data::RawData(bytes),
            Data::Structured(map) => pbcdc::data::Data::StructuredData(struct_to_proto(map)),
        };
        pbcdc::Data { data: Some(data) }
    }
}

/// The SDK data of a protocol `Data`: `None` when neither branch is set.
pub fn data_from_proto(data: pbcdc::Data) -> Option<Data> {
    Some(match data.data? {
        pbcdc::data::Data::RawData(bytes) => Data::Raw(bytes),
        pbcdc::data::Data::StructuredData(s) => Data::Structured(struct_from_proto(s)),
    })
}

/// A `Struct` (`google.protobuf.Struct` on the wire) as a JSON object.
/// Numbers become `f64`; a NaN or infinite number (which JSON cannot hold) and
/// a value with no kind become `null`. When a key repeats, the last entry
/// wins, as for a protobuf map.
pub fn struct_from_proto(s: pbcdc::Struct) -> StructuredData {
    s.fields
        .into_iter()
        .map(|field| (field.key, field.value.map_or(serde_json::Value::Null, value_from_proto)))
        .collect()
}

fn value_from_proto(value: pbcdc::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value.kind {
        None | Some(Kind::NullValue(_)) => J::Null,
        Some(Kind::NumberValue(n)) => serde_json::Number::from_f64(n).map_or(J::Null, J::Number),
        Some(Kind::StringValue(s)) => J::String(s),
        Some(Kind::BoolValue(b)) => J::Bool(b),
        Some(Kind::StructValue(s)) => J::Object(struct_from_proto(s)),
        Some(Kind::ListValue(l)) => J::Array(l.values.into_iter().map(value_from_proto).collect()),
    }
}

/// A JSON object as a `Struct` (`google.protobuf.Struct` on the wire), its
/// entries in the object's order. Numbers become `f64` (as in Conduit: an
/// integer `1` comes back as `1.0`).
pub fn struct_to_proto(map: StructuredData) -> pbcdc::Struct {
    let fields = map.into_iter().map(|(key, v)| pbcdc::StructField { key, value: Some(value_to_proto(v)) });
    pbcdc::Struct { fields: fields.collect() }
}

fn value_to_proto(value: serde_json::Value) -> pbcdc::Value {
    use serde_json::Value as J;
    let kind = match value {
        J::Null => Kind::NullValue(pbcdc::NullValue::NullValue as i32),
        J::Bool(b) => Kind::BoolValue(b),
        // `as_f64` is `Some` for every number without arbitrary precision.
        J::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(f64::NAN)),
        J::String(s) => Kind::StringValue(s),
        J::Array(items) => {
            Kind::ListValue(pbcdc::ListValue { values: items.into_iter().map(value_to_proto).collect() })
        }
        J::Object(map) => Kind::StructValue(struct_to_proto(map)),
    };
    pbcdc::Value { kind: Some(kind) }
}

// ---------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------

impl From<ParameterType> for pbconfig::parameter::Type {
    fn from(ty: ParameterType) -> Self {
        use pbconfig::parameter::Type as T;
        match ty {
            ParameterType::String => T::String,
            ParameterType::Int => T::Int,
            ParameterType::Float => T::Float,
            ParameterType::Bool => T::Bool,
            ParameterType::File => T::File,
            ParameterType::Duration => T::Duration,
        }
    }
}

/// The SDK parameter type of a protocol enum value; `None` for
/// `TYPE_UNSPECIFIED` and unknown numbers.
pub fn parameter_type_from_proto(value: i32) -> Option<ParameterType> {
    use pbconfig::parameter::Type as T;
    Some(match T::try_from(value).ok()? {
        T::Unspecified => return None,
        T::String => ParameterType::String,
        T::Int => ParameterType::Int,
        T::Float => ParameterType::Float,
        T::Bool => ParameterType::Bool,
        T::File => ParameterType::File,
        T::Duration => ParameterType::Duration,
    })
}

impl From<&Validation> for pbconfig::Validation {
    fn from(validation: &Validation) -> Self {
        use pbconfig::validation::Type as T;
        let ty = match validation {
            Validation::Required => T::Required,
            Validation::GreaterThan(_) => T::GreaterThan,
            Validation::LessThan(_) => T::LessThan,
            Validation::Inclusion(_) => T::Inclusion,
            Validation::Exclusion(_) => T::Exclusion,
            Validation::Regex(_) => T::Regex,
        };
        pbconfig::Validation { r#type: ty as i32, value: validation.value() }
    }
}

impl TryFrom<pbconfig::Validation> for Validation {
    type Error = ValidationError;

    /// Conduit's rules: greater/less-than values parse as Go floats,
    /// inclusion/exclusion split on `,` without trimming, regexes must compile.
    fn try_from(validation: pbconfig::Validation) -> Result<Self, ValidationError> {
        use pbconfig::validation::Type as T;
        let value = validation.value;
        let ty = T::try_from(validation.r#type).map_err(|_| ValidationError::InvalidType(validation.r#type))?;
        Ok(match ty {
            T::Unspecified => return Err(ValidationError::InvalidType(validation.r#type)),
            T::Required => Validation::Required,
            T::GreaterThan => match crate::config::go::parse_float(&value) {
                Some(v) => Validation::GreaterThan(v),
                None => return Err(ValidationError::GreaterThan(value)),
            },
            T::LessThan => match crate::config::go::parse_float(&value) {
                Some(v) => Validation::LessThan(v),
                None => return Err(ValidationError::LessThan(value)),
            },
            T::Inclusion => Validation::Inclusion(value.split(',').map(str::to_owned).collect()),
            T::Exclusion => Validation::Exclusion(value.split(',').map(str::to_owned).collect()),
            T::Regex => {
                let pattern = Pattern::new(value);
                if let Err(message) = pattern.regex() {
                    let message = message.to_owned();
                    return Err(ValidationError::Regex { pattern: pattern.as_str().to_owned(), message });
                }
                Validation::Regex(pattern)
            }
        })
    }
}

impl From<&Parameter> for pbconfig::Parameter {
    fn from(parameter: &Parameter) -> Self {
        pbconfig::Parameter {
            default: parameter.default.clone(),
            description: parameter.description.clone(),
            r#type: pbconfig::parameter::Type::from(parameter.ty) as i32,
            validations: parameter.validations.iter().map(pbconfig::Validation::from).collect(),
        }
    }
}

/// Parameters as the protocol's `map<string, config.v1.Parameter>`.
pub fn parameters_to_proto(parameters: &Parameters) -> BTreeMap<String, pbconfig::Parameter> {
    parameters.iter().map(|(name, p)| (name.to_owned(), pbconfig::Parameter::from(p))).collect()
}

/// Parameters from the protocol's `map<string, config.v1.Parameter>`; the
/// first parameter (by name) that cannot be converted is the error.
pub fn parameters_from_proto(parameters: BTreeMap<String, pbconfig::Parameter>) -> Result<Parameters, ProtoError> {
    parameters.into_iter().map(|(name, p)| parameter_from_proto(&name, p).map(|p| (name, p))).collect()
}

/// One parameter from its protocol message; `name` is used in errors.
pub fn parameter_from_proto(name: &str, parameter: pbconfig::Parameter) -> Result<Parameter, ProtoError> {
    let ty = parameter_type_from_proto(parameter.r#type)
        .ok_or_else(|| ProtoError::InvalidParameterType { parameter: name.to_owned(), ty: parameter.r#type })?;
    let validations = parameter
        .validations
        .into_iter()
        .map(Validation::try_from)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|reason| ProtoError::InvalidValidation { parameter: name.to_owned(), reason })?;
    Ok(Parameter { default: parameter.default, description: parameter.description, ty, validations })
}

// ---------------------------------------------------------------------------
// Specification
// ---------------------------------------------------------------------------

impl From<&Specification> for pbconn::Specification {
    fn from(spec: &Specification) -> Self {
        pbconn::Specification {
            name: spec.name.clone(),
            summary: spec.summary.clone(),
            description: spec.description.clone(),
            version: spec.version.clone(),
            author: spec.author.clone(),
            destination_params: parameters_to_proto(&spec.destination_params),
            source_params: parameters_to_proto(&spec.source_params),
        }
    }
}

impl From<&Specification> for pbconn::specifier::specify::Response {
    fn from(spec: &Specification) -> Self {
        pbconn::specifier::specify::Response { specification: Some(spec.into()) }
    }
}

impl TryFrom<pbconn::Specification> for Specification {
    type Error = ProtoError;

    fn try_from(spec: pbconn::Specification) -> Result<Self, ProtoError> {
        Ok(Specification {
            name: spec.name,
            summary: spec.summary,
            description: spec.description,
            version: spec.version,
            author: spec.author,
            source_params: parameters_from_proto(spec.source_params)?,
            destination_params: parameters_from_proto(spec.destination_params)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(ty: i32, validations: Vec<pbconfig::Validation>) -> pbconfig::Parameter {
        pbconfig::Parameter { default: String::new(), description: String::new(), r#type: ty, validations }
    }

    fn validation(ty: pbconfig::validation::Type, value: &str) -> pbconfig::Validation {
        pbconfig::Validation { r#type: ty as i32, value: value.to_owned() }
    }

    #[test]
    fn unknown_operation_names_the_record_position() {
        let record = pbcdc::Record { position: b"pos-9".to_vec(), operation: 7, ..Default::default() };
        let err = Record::try_from(record).unwrap_err();
        assert_eq!(err.to_string(), r#"record at position "pos-9": unknown operation Operation(7)"#);
    }

    #[test]
    fn unspecified_operation_is_an_error() {
        let record = pbcdc::Record { position: b"p".to_vec(), operation: 0, ..Default::default() };
        let err = Record::try_from(record).unwrap_err();
        assert_eq!(err.to_string(), r#"record at position "p": unknown operation OPERATION_UNSPECIFIED"#);
    }

    #[test]
    fn data_with_neither_branch_is_none() {
        let record = pbcdc::Record {
            operation: pbcdc::Operation::Create as i32,
            key: Some(pbcdc::Data { data: None }),
            payload: Some(pbcdc::Change { before: Some(pbcdc::Data { data: None }), after: None }),
            ..Default::default()
        };
        let record = Record::try_from(record).unwrap();
        assert_eq!(record.key, None);
        assert_eq!(record.payload, Change::default());
    }

    #[test]
    fn absent_payload_is_an_empty_change() {
        let record = pbcdc::Record { operation: pbcdc::Operation::Delete as i32, ..Default::default() };
        assert_eq!(Record::try_from(record).unwrap().payload, Change::default());
    }

    fn field(key: &str, kind: Option<Kind>) -> pbcdc::StructField {
        pbcdc::StructField { key: key.to_owned(), value: Some(pbcdc::Value { kind }) }
    }

    #[test]
    fn non_finite_numbers_become_null() {
        let mut s = pbcdc::Struct::default();
        for (k, n) in [("nan", f64::NAN), ("inf", f64::INFINITY), ("ninf", f64::NEG_INFINITY)] {
            s.fields.push(field(k, Some(Kind::NumberValue(n))));
        }
        s.fields.push(field("none", None));
        s.fields.push(pbcdc::StructField { key: "absent".to_owned(), value: None });
        let map = struct_from_proto(s);
        assert_eq!(map.len(), 5);
        assert!(map.values().all(serde_json::Value::is_null), "{map:?}");
    }

    #[test]
    fn repeated_struct_key_takes_the_last_entry() {
        let s = pbcdc::Struct {
            fields: vec![
                field("a", Some(Kind::StringValue("first".into()))),
                field("b", Some(Kind::BoolValue(true))),
                field("a", Some(Kind::StringValue("last".into()))),
            ],
        };
        let map = struct_from_proto(s);
        assert_eq!(serde_json::Value::Object(map), serde_json::json!({"a": "last", "b": true}));
    }

    #[test]
    fn struct_entries_keep_their_wire_order() {
        use prost::Message;
        let s = pbcdc::Struct {
            fields: vec![
                field("z", Some(Kind::NumberValue(1.0))),
                field("a", Some(Kind::NullValue(0))),
                field("m", Some(Kind::ListValue(pbcdc::ListValue::default()))),
            ],
        };
        let bytes = s.encode_to_vec();
        let decoded = pbcdc::Struct::decode(bytes.as_slice()).unwrap();
        let keys: Vec<&str> = decoded.fields.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["z", "a", "m"]);
        assert_eq!(decoded.encode_to_vec(), bytes);
    }

    #[test]
    fn struct_to_proto_writes_entries_in_object_order() {
        let serde_json::Value::Object(map) = serde_json::json!({"b": [1.5, null], "a": {"c": "d"}}) else {
            unreachable!()
        };
        let order: Vec<String> = map.keys().cloned().collect();
        let s = struct_to_proto(map.clone());
        let keys: Vec<String> = s.fields.iter().map(|f| f.key.clone()).collect();
        assert_eq!(keys, order);
        assert_eq!(struct_from_proto(s), map);
    }

    #[test]
    fn integers_become_floats() {
        let serde_json::Value::Object(map) = serde_json::json!({"i": 1, "u": u64::MAX, "neg": -3}) else {
            unreachable!()
        };
        let back = struct_from_proto(struct_to_proto(map));
        assert_eq!(back["i"].as_f64(), Some(1.0));
        assert!(back["i"].is_f64());
        assert_eq!(back["neg"].as_f64(), Some(-3.0));
        assert_eq!(back["u"].as_f64(), Some(u64::MAX as f64));
    }

    #[test]
    fn greater_than_value_must_parse() {
        use pbconfig::validation::Type as T;
        let params = BTreeMap::from([("size".to_owned(), param(2, vec![validation(T::GreaterThan, "abc")]))]);
        let err = parameters_from_proto(params).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"error converting parameter "size": error converting validation: error parsing greater than value: "abc" is not a valid float"#
        );
    }

    #[test]
    fn less_than_value_must_parse() {
        use pbconfig::validation::Type as T;
        let err = parameter_from_proto("n", param(2, vec![validation(T::LessThan, "")])).unwrap_err();
        assert!(err.to_string().ends_with(r#"error parsing less than value: "" is not a valid float"#), "{err}");
    }

    #[test]
    fn inclusion_and_exclusion_split_on_comma_without_trimming() {
        use pbconfig::validation::Type as T;
        let p = parameter_from_proto(
            "f",
            param(1, vec![validation(T::Inclusion, "a, b,,c"), validation(T::Exclusion, " x")]),
        )
        .unwrap();
        assert_eq!(
            p.validations,
            vec![
                Validation::Inclusion(vec!["a".into(), " b".into(), "".into(), "c".into()]),
                Validation::Exclusion(vec![" x".into()]),
            ]
        );
    }

    #[test]
    fn unspecified_validation_type_is_invalid() {
        use pbconfig::validation::Type as T;
        let err = parameter_from_proto("f", param(1, vec![validation(T::Unspecified, "")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"error converting parameter "f": error converting validation: "TYPE_UNSPECIFIED": invalid validation type"#
        );
        let unknown = pbconfig::Validation { r#type: 42, value: String::new() };
        let err = parameter_from_proto("f", param(1, vec![unknown])).unwrap_err();
        assert!(err.to_string().ends_with(r#""42": invalid validation type"#), "{err}");
    }

    #[test]
    fn invalid_regex_is_an_error() {
        use pbconfig::validation::Type as T;
        let err = parameter_from_proto("f", param(1, vec![validation(T::Regex, "(")])).unwrap_err();
        assert!(err.to_string().contains("error converting validation: error compiling regex: "), "{err}");
    }

    #[test]
    fn unspecified_parameter_type_is_invalid() {
        let err = parameter_from_proto("f", param(0, vec![])).unwrap_err();
        assert_eq!(err.to_string(), r#"error converting parameter "f": ParameterType(0): invalid parameter type"#);
    }
}
