//! template.yaml as the local stack runs it: each function's environment, its IAM policy statements and
//! its schedules, with parameters, pseudo parameters and resources resolved to local values.
//!
//! Only what the template really uses is understood: `Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::If`,
//! `Fn::Join`, `Fn::Select`, `Fn::Split` and the condition functions; inline policy documents and
//! `!Ref`s to `AWS::IAM::ManagedPolicy` resources of the same template. Anything else (an intrinsic or
//! a policy form the local stack cannot reproduce) is an error that names the resource, never a guess.

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value as Json};
use serde_yaml_ng::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The region and account of every local ARN (moto's default account).
pub const LOCAL_REGION: &str = "us-east-1";
pub const LOCAL_ACCOUNT: &str = "123456789012";

/// The parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    doc: Value,
}

/// One of the Rust functions built from this workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionDef {
    /// The template's logical id (`PaystackWebhook`).
    pub logical_id: String,
    /// The binary, which is also its name locally (`paystack-webhook`).
    pub binary: String,
}

/// A scheduled event of a function (`Type: Schedule` or `ScheduleV2`).
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleDef {
    pub function: FunctionDef,
    /// The event's name in the template (`SweepUnpaidOrders`).
    pub name: String,
    pub every: std::time::Duration,
    pub enabled: bool,
    /// The payload when the event sets `Input`; otherwise EventBridge's scheduled-event envelope.
    pub input: Option<Json>,
}

impl Template {
    pub fn from_path(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    /// This repository's template.yaml.
    pub fn from_repo() -> Result<Self> {
        Self::from_path(&crate::repo_root().join("template.yaml"))
    }

    pub fn parse(text: &str) -> Result<Self> {
        let doc: Value = serde_yaml_ng::from_str(text).context("template.yaml is not YAML")?;
        if !doc["Resources"].is_mapping() {
            bail!("template.yaml has no Resources");
        }
        Ok(Self { doc })
    }

    fn resources(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.doc["Resources"]
            .as_mapping()
            .into_iter()
            .flatten()
            .filter_map(|(id, resource)| Some((id.as_str()?, resource)))
    }

    fn resource(&self, logical_id: &str) -> Option<&Value> {
        self.doc["Resources"].get(logical_id)
    }

    /// The Rust functions (the ones with a `BuildProperties.Binary`), in template order.
    pub fn functions(&self) -> Vec<FunctionDef> {
        self.resources()
            .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
            .filter_map(|(id, r)| {
                Some(FunctionDef {
                    logical_id: id.to_string(),
                    binary: r["Metadata"]["BuildProperties"]["Binary"]
                        .as_str()?
                        .to_string(),
                })
            })
            .collect()
    }

    /// The function whose binary is `binary`.
    pub fn function(&self, binary: &str) -> Result<FunctionDef> {
        self.functions()
            .into_iter()
            .find(|f| f.binary == binary)
            .ok_or_else(|| anyhow!("template.yaml has no function built as binary {binary:?}"))
    }

    /// Every `Schedule`/`ScheduleV2` event of the Rust functions.
    pub fn schedules(&self) -> Result<Vec<ScheduleDef>> {
        let mut schedules = Vec::new();
        for function in self.functions() {
            let resource = self.resource(&function.logical_id).expect("listed above");
            let Some(events) = resource["Properties"]["Events"].as_mapping() else {
                continue;
            };
            for (name, event) in events {
                let kind = event["Type"].as_str().unwrap_or_default();
                if kind != "Schedule" && kind != "ScheduleV2" {
                    continue;
                }
                let name = name.as_str().unwrap_or_default().to_string();
                let at = || format!("{}.Events.{name}", function.logical_id);
                let props = &event["Properties"];
                let expression = props[if kind == "Schedule" {
                    "Schedule"
                } else {
                    "ScheduleExpression"
                }]
                .as_str()
                .ok_or_else(|| anyhow!("{}: the schedule expression must be a literal", at()))?;
                let every = parse_rate(expression).with_context(at)?;
                let enabled = match (&props["Enabled"], &props["State"]) {
                    (Value::Bool(enabled), _) => *enabled,
                    (_, Value::String(state)) => state == "ENABLED",
                    (Value::Null, Value::Null) => true,
                    _ => bail!("{}: Enabled/State must be literal", at()),
                };
                let input = match props["Input"].as_str() {
                    Some(text) => Some(
                        serde_json::from_str(text)
                            .with_context(|| format!("{}: Input is not JSON", at()))?,
                    ),
                    None => None,
                };
                schedules.push(ScheduleDef {
                    function: function.clone(),
                    name,
                    every,
                    enabled,
                    input,
                });
            }
        }
        Ok(schedules)
    }
}

impl ScheduleDef {
    /// The rule's name as SAM names it (`<stack>-<Function><Event>`, less SAM's random suffix).
    pub fn rule_name(&self) -> String {
        format!("kitchen-local-{}{}", self.function.logical_id, self.name)
    }

    /// What EventBridge hands the function when the schedule fires at `time` (RFC 3339): the event's
    /// `Input` if it has one, otherwise a scheduled-event envelope.
    pub fn event(&self, id: &str, time: &str) -> Json {
        if let Some(input) = &self.input {
            return input.clone();
        }
        serde_json::json!({
            "version": "0",
            "id": id,
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": LOCAL_ACCOUNT,
            "time": time,
            "region": LOCAL_REGION,
            "resources": [format!(
                "arn:aws:events:{LOCAL_REGION}:{LOCAL_ACCOUNT}:rule/{}",
                self.rule_name()
            )],
            "detail": {},
        })
    }

    /// Where its sample event lives: `events/<function>/<event-name-in-kebab-case>.json`.
    pub fn sample_path(&self) -> std::path::PathBuf {
        let mut file = String::new();
        for (i, c) in self.name.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                file.push('-');
            }
            file.push(c.to_ascii_lowercase());
        }
        crate::repo_root()
            .join("events")
            .join(&self.function.binary)
            .join(format!("{file}.json"))
    }
}

/// `rate(N minute|minutes|hour|hours|day|days)`, as EventBridge writes it. Cron expressions are not
/// run locally; the template uses none, and one would be refused here rather than ignored.
pub fn parse_rate(expression: &str) -> Result<std::time::Duration> {
    let inner = expression
        .strip_prefix("rate(")
        .and_then(|rest| rest.strip_suffix(')'))
        .ok_or_else(|| {
            anyhow!("schedule {expression:?}: the local stack runs rate(...) expressions only")
        })?;
    let (count, unit) = inner
        .trim()
        .split_once(' ')
        .ok_or_else(|| anyhow!("schedule {expression:?} is not rate(N unit)"))?;
    let count: u64 = count
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| anyhow!("schedule {expression:?}: N must be a positive whole number"))?;
    let seconds = match (unit.trim(), count) {
        ("minute", 1) | ("minutes", 2..) => 60,
        ("hour", 1) | ("hours", 2..) => 3600,
        ("day", 1) | ("days", 2..) => 86_400,
        _ => bail!(
            "schedule {expression:?}: the unit must be minute(s), hour(s) or day(s), singular for 1"
        ),
    };
    Ok(std::time::Duration::from_secs(count * seconds))
}

/// A deployment of the template: parameter values and the physical names of its resources.
#[derive(Debug, Clone)]
pub struct Stack {
    template: Template,
    parameters: BTreeMap<String, Json>,
    /// Logical id → (`Ref` value, attributes for `GetAtt`).
    physical: BTreeMap<String, (String, BTreeMap<String, String>)>,
    conditions: BTreeMap<String, bool>,
}

/// What a local deployment binds: the parameter values it overrides and the names of the table and
/// topic it created.
#[derive(Debug, Clone, Default)]
pub struct LocalBindings {
    pub parameters: BTreeMap<String, String>,
    pub table_name: String,
    pub topic_name: String,
    /// Values for parameters the template declares without a default, used when nothing binds
    /// them (see [`LocalBindings::new`]); a template that does not declare one ignores it.
    pub local_defaults: BTreeMap<String, String>,
}

/// The sender of account emails locally: verified as an SES identity in moto by the local setup
/// and by each test app, as an operator verifies the real one in SES.
pub const LOCAL_EMAIL_FROM: &str = "kitchen@kitchen.local";
/// The API's address as `make dev` serves it (the links in account emails start with it).
pub const LOCAL_API_URL: &str = "http://127.0.0.1:9000";

impl LocalBindings {
    /// The bindings of the local stack of `make dev` (and of the tools it starts), from its
    /// environment: `TABLE_NAME` (default `kitchen`), the topic named by `TOPIC_ARN` (default
    /// `kitchen-events`), and each `KITCHEN_PARAM_<Name>` as the value of parameter `<Name>`.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let mut bindings = Self::new(
            var("TABLE_NAME").unwrap_or_else(|| "kitchen".into()),
            var("TOPIC_ARN")
                .and_then(|arn| arn.rsplit(':').next().map(String::from))
                .unwrap_or_else(|| "kitchen-events".into()),
        );
        for (name, value) in std::env::vars() {
            if let Some(parameter) = name.strip_prefix("KITCHEN_PARAM_") {
                bindings.parameters.insert(parameter.to_string(), value);
            }
        }
        bindings
    }

    /// Bindings for a table and a topic, with the local values of the parameters a deployment must
    /// choose but the local stack has one answer for: the sender of account emails (the identity
    /// the local setup verifies in moto's SES, [`LOCAL_EMAIL_FROM`]) and the API's public address
    /// (`make dev`'s). Either can be bound again like any parameter.
    pub fn new(table_name: impl Into<String>, topic_name: impl Into<String>) -> Self {
        Self {
            table_name: table_name.into(),
            topic_name: topic_name.into(),
            parameters: BTreeMap::new(),
            local_defaults: BTreeMap::from([
                ("EmailFromAddress".to_string(), LOCAL_EMAIL_FROM.to_string()),
                ("PublicApiUrl".to_string(), LOCAL_API_URL.to_string()),
            ]),
        }
    }

    pub fn parameter(mut self, name: &str, value: impl Into<String>) -> Self {
        self.parameters.insert(name.to_string(), value.into());
        self
    }

    /// The ARN of the topic as moto names it.
    pub fn topic_arn(&self) -> String {
        format!(
            "arn:aws:sns:{LOCAL_REGION}:{LOCAL_ACCOUNT}:{}",
            self.topic_name
        )
    }
}

impl Stack {
    /// Deploys `template` locally: checks each parameter as CloudFormation would (unknown names,
    /// values missing a default, `AllowedValues`, `AllowedPattern`, `MinValue`), names every resource
    /// and evaluates the conditions.
    pub fn new(template: &Template, bindings: &LocalBindings) -> Result<Self> {
        let declared = template.doc["Parameters"].as_mapping();
        for name in bindings.parameters.keys() {
            if declared.and_then(|d| d.get(name.as_str())).is_none() {
                bail!("parameter {name} is not declared in template.yaml");
            }
        }
        let mut parameters = BTreeMap::new();
        for (name, spec) in declared.into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            let value = match bindings
                .parameters
                .get(name)
                .or_else(|| bindings.local_defaults.get(name))
            {
                Some(value) => value.clone(),
                None => match &spec["Default"] {
                    Value::Null => bail!("parameter {name} has no default and no local value"),
                    other => scalar_text(other)
                        .ok_or_else(|| anyhow!("parameter {name}: Default must be a scalar"))?,
                },
            };
            check_parameter(name, spec, &value)?;
            let value = if spec["Type"].as_str() == Some("CommaDelimitedList") {
                Json::Array(
                    value
                        .split(',')
                        .map(|item| Json::String(item.trim().to_string()))
                        .collect(),
                )
            } else {
                Json::String(value)
            };
            parameters.insert(name.to_string(), value);
        }
        let mut physical = BTreeMap::new();
        for (id, resource) in template.resources() {
            physical.insert(id.to_string(), local_resource(id, resource, bindings));
        }
        let mut stack = Self {
            template: template.clone(),
            parameters,
            physical,
            conditions: BTreeMap::new(),
        };
        let conditions: Vec<(String, Value)> = template.doc["Conditions"]
            .as_mapping()
            .into_iter()
            .flatten()
            .filter_map(|(name, body)| Some((name.as_str()?.to_string(), body.clone())))
            .collect();
        // Conditions may name conditions defined before them; evaluate until nothing changes.
        for _ in 0..=conditions.len() {
            for (name, body) in &conditions {
                if stack.conditions.contains_key(name) {
                    continue;
                }
                if let Ok(value) = stack.condition_value(body) {
                    stack.conditions.insert(name.clone(), value);
                }
            }
        }
        for (name, body) in &conditions {
            if !stack.conditions.contains_key(name) {
                stack
                    .condition_value(body)
                    .with_context(|| format!("condition {name}"))?;
            }
        }
        Ok(stack)
    }

    pub fn template(&self) -> &Template {
        &self.template
    }

    /// A parameter's value as text (lists joined with commas).
    pub fn parameter(&self, name: &str) -> Option<String> {
        self.parameters.get(name).map(|value| match value {
            Json::Array(items) => items
                .iter()
                .filter_map(Json::as_str)
                .collect::<Vec<_>>()
                .join(","),
            other => other.as_str().unwrap_or_default().to_string(),
        })
    }

    /// The variables of `function`'s `Environment`, resolved; a variable set to `AWS::NoValue` is absent.
    pub fn function_environment(&self, function: &FunctionDef) -> Result<BTreeMap<String, String>> {
        let at = format!("{}.Properties.Environment.Variables", function.logical_id);
        let resource = self
            .template
            .resource(&function.logical_id)
            .ok_or_else(|| anyhow!("no resource {}", function.logical_id))?;
        let mut env = BTreeMap::new();
        let Some(variables) = resource["Properties"]["Environment"]["Variables"].as_mapping()
        else {
            return Ok(env);
        };
        for (name, value) in variables {
            let name = name.as_str().unwrap_or_default();
            let resolved = self
                .resolve(value)
                .with_context(|| format!("{at}.{name}"))?;
            match resolved {
                None => {}
                Some(Json::String(text)) => {
                    env.insert(name.to_string(), text);
                }
                Some(Json::Number(n)) => {
                    env.insert(name.to_string(), n.to_string());
                }
                Some(Json::Bool(b)) => {
                    env.insert(name.to_string(), b.to_string());
                }
                Some(other) => bail!("{at}.{name} resolves to {other}, not a string"),
            }
        }
        Ok(env)
    }

    /// What a function process gets locally (`make dev`, `make bench`): its template environment,
    /// plus the IAM gate at `gate` as its one AWS endpoint, the region and its own local credentials.
    pub fn process_environment(
        &self,
        function: &FunctionDef,
        gate: &str,
    ) -> Result<BTreeMap<String, String>> {
        let mut env = self.function_environment(function)?;
        env.insert("AWS_ENDPOINT_URL".into(), gate.into());
        env.insert("AWS_REGION".into(), LOCAL_REGION.into());
        env.insert(
            "AWS_ACCESS_KEY_ID".into(),
            crate::iam::access_key_of(&function.binary),
        );
        env.insert("AWS_SECRET_ACCESS_KEY".into(), "local".into());
        Ok(env)
    }

    /// The policy documents attached to `function` (its `Policies`), resolved. Each comes with where it
    /// was written, for messages. SAM's policy templates and AWS managed policies are not understood
    /// here, so a function that uses one is refused.
    pub fn function_policies(&self, function: &FunctionDef) -> Result<Vec<(String, Json)>> {
        let resource = self
            .template
            .resource(&function.logical_id)
            .ok_or_else(|| anyhow!("no resource {}", function.logical_id))?;
        let mut documents = Vec::new();
        let policies = match &resource["Properties"]["Policies"] {
            Value::Null => return Ok(documents),
            Value::Sequence(items) => items.clone(),
            single => vec![single.clone()],
        };
        for (index, policy) in policies.iter().enumerate() {
            let at = format!("{}.Properties.Policies[{index}]", function.logical_id);
            if let Some(target) = ref_target(policy) {
                let referenced = self.template.resource(target).ok_or_else(|| {
                    anyhow!("{at}: !Ref {target} names no resource of the template")
                })?;
                if referenced["Type"].as_str() != Some("AWS::IAM::ManagedPolicy") {
                    bail!("{at}: !Ref {target} is not an AWS::IAM::ManagedPolicy");
                }
                let document = self
                    .resolve(&referenced["Properties"]["PolicyDocument"])
                    .with_context(|| format!("{target}.Properties.PolicyDocument"))?
                    .ok_or_else(|| anyhow!("{target} has no PolicyDocument"))?;
                documents.push((target.to_string(), document));
            } else if policy.get("Statement").is_some() {
                let document = self
                    .resolve(policy)
                    .with_context(|| at.clone())?
                    .ok_or_else(|| anyhow!("{at} is empty"))?;
                documents.push((at, document));
            } else {
                bail!(
                    "{at}: only inline policy documents and !Ref to an AWS::IAM::ManagedPolicy of \
                     this template are understood by the local stack (a SAM policy template or an AWS \
                     managed policy cannot be checked here; write its statements inline)"
                );
            }
        }
        Ok(documents)
    }

    /// `value` with every intrinsic function resolved; `None` for `AWS::NoValue`.
    pub fn resolve(&self, value: &Value) -> Result<Option<Json>> {
        Ok(match value {
            Value::Null => Some(Json::Null),
            Value::Bool(b) => Some(Json::Bool(*b)),
            Value::Number(n) => Some(serde_json::to_value(n)?),
            Value::String(s) => Some(Json::String(s.clone())),
            Value::Sequence(items) => {
                let mut out = Vec::new();
                for item in items {
                    if let Some(value) = self.resolve(item)? {
                        out.push(value);
                    }
                }
                Some(Json::Array(out))
            }
            Value::Mapping(map) => {
                if map.len() == 1 {
                    let (key, body) = map.iter().next().expect("one entry");
                    if let Some(function) = key.as_str().and_then(long_form) {
                        return self.intrinsic(function, body);
                    }
                }
                let mut out = Map::new();
                for (key, item) in map {
                    let key =
                        scalar_text(key).ok_or_else(|| anyhow!("a mapping key is not text"))?;
                    if let Some(value) = self.resolve(item)? {
                        out.insert(key, value);
                    }
                }
                Some(Json::Object(out))
            }
            Value::Tagged(tagged) => {
                let name = tagged.tag.to_string();
                let name = name.trim_start_matches('!');
                let function = if name == "Ref" || name == "Condition" {
                    name.to_string()
                } else {
                    format!("Fn::{name}")
                };
                self.intrinsic(&function, &tagged.value)?
            }
        })
    }

    fn intrinsic(&self, function: &str, body: &Value) -> Result<Option<Json>> {
        match function {
            "Ref" => {
                let name = body.as_str().ok_or_else(|| anyhow!("!Ref takes a name"))?;
                self.reference(name)
            }
            "Fn::GetAtt" => {
                let (resource, attribute) = match body {
                    Value::String(text) => text
                        .split_once('.')
                        .map(|(r, a)| (r.to_string(), a.to_string()))
                        .ok_or_else(|| anyhow!("!GetAtt {text}: expected Resource.Attribute"))?,
                    Value::Sequence(parts) if parts.len() == 2 => (
                        parts[0].as_str().unwrap_or_default().to_string(),
                        parts[1].as_str().unwrap_or_default().to_string(),
                    ),
                    _ => bail!("!GetAtt takes Resource.Attribute"),
                };
                Ok(Some(Json::String(self.attribute(&resource, &attribute)?)))
            }
            "Fn::Sub" => {
                let (text, variables) = match body {
                    Value::String(text) => (text.as_str(), None),
                    Value::Sequence(parts) if parts.len() == 2 => (
                        parts[0]
                            .as_str()
                            .ok_or_else(|| anyhow!("!Sub takes a string"))?,
                        Some(&parts[1]),
                    ),
                    _ => bail!("!Sub takes a string, or [string, variables]"),
                };
                Ok(Some(Json::String(self.substitute(text, variables)?)))
            }
            "Fn::If" => {
                let parts = body
                    .as_sequence()
                    .filter(|p| p.len() == 3)
                    .ok_or_else(|| anyhow!("!If takes [condition, then, else]"))?;
                let name = parts[0]
                    .as_str()
                    .ok_or_else(|| anyhow!("!If names a condition"))?;
                let holds = *self
                    .conditions
                    .get(name)
                    .ok_or_else(|| anyhow!("!If names unknown condition {name}"))?;
                self.resolve(&parts[if holds { 1 } else { 2 }])
            }
            "Fn::Join" => {
                let parts = body
                    .as_sequence()
                    .filter(|p| p.len() == 2)
                    .ok_or_else(|| anyhow!("!Join takes [delimiter, list]"))?;
                let delimiter = parts[0].as_str().unwrap_or_default();
                let items = self.resolve(&parts[1])?.unwrap_or(Json::Array(Vec::new()));
                let items = items
                    .as_array()
                    .ok_or_else(|| anyhow!("!Join takes a list"))?
                    .iter()
                    .map(|item| item.as_str().map(String::from).unwrap_or(item.to_string()))
                    .collect::<Vec<_>>();
                Ok(Some(Json::String(items.join(delimiter))))
            }
            "Fn::Split" => {
                let parts = body
                    .as_sequence()
                    .filter(|p| p.len() == 2)
                    .ok_or_else(|| anyhow!("!Split takes [delimiter, string]"))?;
                let delimiter = parts[0].as_str().unwrap_or_default();
                let text = self.resolve(&parts[1])?;
                let text = text
                    .as_ref()
                    .and_then(Json::as_str)
                    .ok_or_else(|| anyhow!("!Split takes a string"))?;
                Ok(Some(Json::Array(
                    text.split(delimiter)
                        .map(|s| Json::String(s.into()))
                        .collect(),
                )))
            }
            "Fn::Select" => {
                let parts = body
                    .as_sequence()
                    .filter(|p| p.len() == 2)
                    .ok_or_else(|| anyhow!("!Select takes [index, list]"))?;
                let index = self
                    .resolve(&parts[0])?
                    .and_then(|i| i.as_str().and_then(|s| s.parse().ok()).or(i.as_u64()))
                    .ok_or_else(|| anyhow!("!Select takes a number"))?;
                let list = self.resolve(&parts[1])?;
                let item = list
                    .as_ref()
                    .and_then(Json::as_array)
                    .and_then(|l| l.get(usize::try_from(index).ok()?))
                    .ok_or_else(|| anyhow!("!Select index {index} out of range"))?;
                Ok(Some(item.clone()))
            }
            other => bail!("the local stack does not understand {other}"),
        }
    }

    fn condition_value(&self, body: &Value) -> Result<bool> {
        let (function, args) = match body {
            Value::Tagged(tagged) => (
                tagged.tag.to_string().trim_start_matches('!').to_string(),
                &tagged.value,
            ),
            Value::Mapping(map) if map.len() == 1 => {
                let (key, args) = map.iter().next().expect("one entry");
                let key = key.as_str().unwrap_or_default();
                (key.strip_prefix("Fn::").unwrap_or(key).to_string(), args)
            }
            _ => bail!("a condition must be a condition function"),
        };
        let list = || {
            args.as_sequence()
                .ok_or_else(|| anyhow!("!{function} takes a list"))
        };
        match function.as_str() {
            "Equals" => {
                let parts = list()?;
                if parts.len() != 2 {
                    bail!("!Equals takes two values");
                }
                Ok(self.resolve(&parts[0])? == self.resolve(&parts[1])?)
            }
            "Not" => Ok(!self.condition_value(
                list()?
                    .first()
                    .ok_or_else(|| anyhow!("!Not takes one condition"))?,
            )?),
            "And" => list()?
                .iter()
                .try_fold(true, |all, c| Ok(all && self.condition_value(c)?)),
            "Or" => list()?
                .iter()
                .try_fold(false, |any, c| Ok(any || self.condition_value(c)?)),
            "Condition" => {
                let name = args.as_str().unwrap_or_default();
                self.conditions
                    .get(name)
                    .copied()
                    .ok_or_else(|| anyhow!("condition {name} is not known (yet)"))
            }
            other => bail!("the local stack does not understand condition function {other}"),
        }
    }

    fn reference(&self, name: &str) -> Result<Option<Json>> {
        Ok(Some(match name {
            "AWS::NoValue" => return Ok(None),
            "AWS::Region" => Json::String(LOCAL_REGION.into()),
            "AWS::AccountId" => Json::String(LOCAL_ACCOUNT.into()),
            "AWS::Partition" => Json::String("aws".into()),
            "AWS::URLSuffix" => Json::String("amazonaws.com".into()),
            "AWS::StackName" => Json::String("kitchen-local".into()),
            _ => {
                if let Some(value) = self.parameters.get(name) {
                    value.clone()
                } else if let Some((reference, _)) = self.physical.get(name) {
                    Json::String(reference.clone())
                } else {
                    bail!("!Ref {name} names no parameter or resource of the template")
                }
            }
        }))
    }

    fn attribute(&self, resource: &str, attribute: &str) -> Result<String> {
        let (_, attributes) = self
            .physical
            .get(resource)
            .ok_or_else(|| anyhow!("!GetAtt {resource}.{attribute}: no such resource"))?;
        attributes.get(attribute).cloned().ok_or_else(|| {
            anyhow!(
                "!GetAtt {resource}.{attribute}: the local stack has no value for that attribute"
            )
        })
    }

    fn substitute(&self, text: &str, variables: Option<&Value>) -> Result<String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| anyhow!("!Sub {text:?}: unclosed ${{"))?;
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(value) = variables.and_then(|v| v.get(name)) {
                let value = self.resolve(value)?.unwrap_or(Json::Null);
                out.push_str(value.as_str().unwrap_or(&value.to_string()));
            } else if let Some((resource, attribute)) = name.split_once('.') {
                out.push_str(&self.attribute(resource, attribute)?);
            } else {
                let value = self.reference(name)?.unwrap_or(Json::Null);
                out.push_str(value.as_str().unwrap_or(&value.to_string()));
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// `Fn::X` or `Ref`/`Condition` as a mapping's only key (the long form of an intrinsic).
fn long_form(key: &str) -> Option<&str> {
    (key == "Ref" || key == "Condition" || key.starts_with("Fn::")).then_some(key)
}

/// The target of `!Ref X` (either form), if `value` is one.
fn ref_target(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str(),
        Value::Mapping(map) if map.len() == 1 => map.get("Ref").and_then(Value::as_str),
        _ => None,
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The checks CloudFormation makes of a parameter value before it deploys anything.
fn check_parameter(name: &str, spec: &Value, value: &str) -> Result<()> {
    if let Some(allowed) = spec["AllowedValues"].as_sequence() {
        let allowed: Vec<String> = allowed.iter().filter_map(scalar_text).collect();
        if !allowed.iter().any(|a| a == value) {
            bail!("parameter {name}: {value:?} is not one of {allowed:?}");
        }
    }
    if let Some(pattern) = spec["AllowedPattern"].as_str() {
        // CloudFormation matches the whole value.
        let regex = regex::Regex::new(&format!("^(?:{pattern})$"))
            .with_context(|| format!("parameter {name}: AllowedPattern is not a regex"))?;
        if !regex.is_match(value) {
            bail!("parameter {name}: {value:?} does not match AllowedPattern {pattern}");
        }
    }
    if spec["Type"].as_str() == Some("Number") {
        let number: f64 = value
            .parse()
            .map_err(|_| anyhow!("parameter {name}: {value:?} is not a number"))?;
        if let Some(min) = spec["MinValue"].as_f64()
            && number < min
        {
            bail!("parameter {name}: {value} is below MinValue {min}");
        }
        if let Some(max) = spec["MaxValue"].as_f64()
            && number > max
        {
            bail!("parameter {name}: {value} is above MaxValue {max}");
        }
    }
    Ok(())
}

/// The local name and attributes of one resource, by its type.
fn local_resource(
    id: &str,
    resource: &Value,
    bindings: &LocalBindings,
) -> (String, BTreeMap<String, String>) {
    let (region, account) = (LOCAL_REGION, LOCAL_ACCOUNT);
    let kind = resource["Type"].as_str().unwrap_or_default();
    let mut attributes = BTreeMap::new();
    let reference = match kind {
        "AWS::DynamoDB::Table" => {
            let name = bindings.table_name.clone();
            attributes.insert(
                "Arn".into(),
                format!("arn:aws:dynamodb:{region}:{account}:table/{name}"),
            );
            name
        }
        "AWS::SNS::Topic" if id == "Topic" => {
            let arn = bindings.topic_arn();
            attributes.insert("TopicArn".into(), arn.clone());
            attributes.insert("TopicName".into(), bindings.topic_name.clone());
            arn
        }
        "AWS::SNS::Topic" => {
            let arn = format!("arn:aws:sns:{region}:{account}:{id}");
            attributes.insert("TopicArn".into(), arn.clone());
            arn
        }
        "AWS::Serverless::Function" => {
            let name = resource["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .unwrap_or(id)
                .to_string();
            attributes.insert(
                "Arn".into(),
                format!("arn:aws:lambda:{region}:{account}:function:{name}"),
            );
            name
        }
        "AWS::IAM::ManagedPolicy" => format!("arn:aws:iam::{account}:policy/{id}"),
        "AWS::IAM::Role" => {
            attributes.insert("Arn".into(), format!("arn:aws:iam::{account}:role/{id}"));
            id.to_string()
        }
        "AWS::SQS::Queue" => {
            attributes.insert("Arn".into(), format!("arn:aws:sqs:{region}:{account}:{id}"));
            attributes.insert("QueueName".into(), id.to_string());
            format!("https://sqs.{region}.amazonaws.com/{account}/{id}")
        }
        "AWS::Logs::LogGroup" => {
            attributes.insert(
                "Arn".into(),
                format!("arn:aws:logs:{region}:{account}:log-group:{id}:*"),
            );
            id.to_string()
        }
        _ => id.to_string(),
    };
    (reference, attributes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_stack() -> Stack {
        Stack::new(
            &Template::from_repo().unwrap(),
            &LocalBindings::new("kitchen", "kitchen-events")
                .parameter("PaystackCallbackUrl", "http://127.0.0.1:9000/docs"),
        )
        .unwrap()
    }

    #[test]
    fn the_repository_template_lists_the_seven_functions() {
        let names: Vec<String> = Template::from_repo()
            .unwrap()
            .functions()
            .into_iter()
            .map(|f| f.binary)
            .collect();
        assert_eq!(
            names,
            [
                "auth",
                "dishes",
                "orders",
                "payments",
                "admin",
                "paystack-webhook",
                "notifier"
            ]
        );
    }

    #[test]
    fn environments_resolve_parameters_and_resources() {
        let stack = repo_stack();
        let orders = stack.template().function("orders").unwrap();
        let env = stack.function_environment(&orders).unwrap();
        assert_eq!(env["TABLE_NAME"], "kitchen");
        assert_eq!(
            env["TOPIC_ARN"],
            "arn:aws:sns:us-east-1:123456789012:kitchen-events"
        );
        assert_eq!(env["KITCHEN_TIMEZONE"], "Africa/Lagos");
        assert_eq!(env["UNPAID_ORDER_EXPIRY_SECONDS"], "86400");
    }

    #[test]
    fn no_value_leaves_a_variable_out() {
        let stack = repo_stack();
        let auth = stack.template().function("auth").unwrap();
        assert!(
            !stack
                .function_environment(&auth)
                .unwrap()
                .contains_key("GOOGLE_JWKS_URL")
        );
        let stack = Stack::new(
            stack.template(),
            &LocalBindings::new("t", "e")
                .parameter("PaystackCallbackUrl", "http://x/")
                .parameter("GoogleJwksUrl", "http://127.0.0.1:1/jwks"),
        )
        .unwrap();
        assert_eq!(
            stack.function_environment(&auth).unwrap()["GOOGLE_JWKS_URL"],
            "http://127.0.0.1:1/jwks"
        );
    }

    #[test]
    fn parameters_are_checked_as_cloudformation_checks_them() {
        let template = Template::from_repo().unwrap();
        let bindings = LocalBindings::new("t", "e");
        let err = Stack::new(&template, &bindings).unwrap_err().to_string();
        assert!(err.contains("PaystackCallbackUrl"), "{err}");
        let ok = bindings.parameter("PaystackCallbackUrl", "http://x/");
        let err = Stack::new(
            &template,
            &ok.clone().parameter("UnpaidOrderExpirySeconds", "5"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("MinValue"), "{err}");
        let err = Stack::new(&template, &ok.clone().parameter("LogRetentionDays", "8"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("LogRetentionDays"), "{err}");
        let err = Stack::new(&template, &ok.clone().parameter("KitchenPhone", "0801"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("AllowedPattern"), "{err}");
        let err = Stack::new(&template, &ok.parameter("NoSuchParameter", "1"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not declared"), "{err}");
    }

    #[test]
    fn sub_resolves_pseudo_parameters_attributes_and_literals() {
        let stack = repo_stack();
        let value: Value = serde_yaml_ng::from_str(
            "!Sub 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${TokenSigningKeyParameterName} ${Table.Arn} ${!Literal}'",
        )
        .unwrap();
        assert_eq!(
            stack.resolve(&value).unwrap().unwrap(),
            "arn:aws:ssm:us-east-1:123456789012:parameter/kitchen/token-signing-key \
             arn:aws:dynamodb:us-east-1:123456789012:table/kitchen ${Literal}"
        );
    }

    #[test]
    fn what_the_local_stack_cannot_resolve_is_an_error_naming_it() {
        let stack = repo_stack();
        for (text, expected) in [
            ("!Ref Nothing", "Nothing"),
            ("!GetAtt Table.StreamArn", "Table.StreamArn"),
            ("!ImportValue other-stack", "ImportValue"),
            ("!If [NoSuchCondition, a, b]", "NoSuchCondition"),
        ] {
            let value: Value = serde_yaml_ng::from_str(text).unwrap();
            let err = stack.resolve(&value).unwrap_err().to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn policy_templates_and_managed_policies_by_name_are_refused() {
        let text = "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Metadata: {BuildProperties: {Binary: f}}\n    Properties:\n      Policies:\n        - DynamoDBCrudPolicy: {TableName: !Ref T}\n";
        let template = Template::parse(text).unwrap();
        let stack = Stack::new(&template, &LocalBindings::new("t", "e")).unwrap();
        let function = template.function("f").unwrap();
        let err = stack.function_policies(&function).unwrap_err().to_string();
        assert!(err.contains("F.Properties.Policies[0]"), "{err}");
        let text = text.replace(
            "- DynamoDBCrudPolicy: {TableName: !Ref T}",
            "- AmazonDynamoDBFullAccess",
        );
        let template = Template::parse(&text).unwrap();
        let stack = Stack::new(&template, &LocalBindings::new("t", "e")).unwrap();
        assert!(stack.function_policies(&function).is_err());
    }

    #[test]
    fn managed_policies_of_the_template_are_read_through_their_ref() {
        let stack = repo_stack();
        let payments = stack.template().function("payments").unwrap();
        let policies = stack.function_policies(&payments).unwrap();
        let sources: Vec<&str> = policies.iter().map(|(at, _)| at.as_str()).collect();
        assert!(sources.contains(&"PaystackSecretReadPolicy"), "{sources:?}");
        let (_, paystack) = policies
            .iter()
            .find(|(at, _)| at == "PaystackSecretReadPolicy")
            .unwrap();
        assert_eq!(
            paystack["Statement"][0]["Resource"],
            "arn:aws:ssm:us-east-1:123456789012:parameter/kitchen/paystack-secret-key"
        );
    }

    #[test]
    fn rates_parse_and_anything_else_is_refused() {
        assert_eq!(parse_rate("rate(15 minutes)").unwrap().as_secs(), 900);
        assert_eq!(parse_rate("rate(1 hour)").unwrap().as_secs(), 3600);
        assert_eq!(parse_rate("rate(2 days)").unwrap().as_secs(), 172_800);
        for bad in [
            "rate(1 minutes)",
            "rate(0 minutes)",
            "rate(5 weeks)",
            "cron(0 12 * * ? *)",
        ] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_sweep_is_a_schedule_of_the_orders_function() {
        let schedules = Template::from_repo().unwrap().schedules().unwrap();
        let sweep = schedules
            .iter()
            .find(|s| s.name == "SweepUnpaidOrders")
            .expect("the sweep");
        assert_eq!(sweep.function.binary, "orders");
        assert_eq!(sweep.every.as_secs(), 900);
        assert!(sweep.enabled);
    }
}
