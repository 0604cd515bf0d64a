//! IAM as AWS applies it to a function's calls, for the local stack and the tests: each function's
//! policy statements come from template.yaml (see [`crate::stack`]), and every AWS request a function
//! makes is allowed only when a statement allows each IAM action that request needs on its resource.
//!
//! The check works on the signed HTTP request, as AWS does, so it is the same for an SDK client in a
//! test ([`GatedHttpClient`]) and for a function process of `make dev` or `make bench` (the
//! `kitchen-local gate` proxy in front of DynamoDB Local and moto). What a request needs is mapped as
//! AWS maps it:
//! - DynamoDB: the operation's own action on the table, or on `table/T/index/I` for a Query or Scan
//!   of an index; `BatchGetItem`/`BatchWriteItem` on each table named; a `TransactWriteItems` needs
//!   `PutItem`, `UpdateItem`, `DeleteItem` or `ConditionCheckItem` for each of its items, and a
//!   `TransactGetItems` `GetItem` for each (there is no `dynamodb:TransactWriteItems` action);
//! - SNS: `sns:Publish` on the topic, or on `*` for a text to a phone number;
//! - SSM: `ssm:GetParameter(s)` on `parameter/NAME`, and, with decryption, the `kms:Decrypt` that SSM
//!   makes on the caller's behalf, with the `kms:ViaService` and `kms:EncryptionContext:PARAMETER_ARN`
//!   keys a key policy or condition sees;
//! - SES v2: `ses:SendEmail` on the sender's identity.
//!
//! A refused request is answered as AWS answers it (DynamoDB's and SSM's `AccessDeniedException`,
//! SNS's `AuthorizationError`, SES's `AccessDeniedException`), so the SDK returns its ordinary service
//! error and the function answers what it would answer in AWS. A request the check cannot map is
//! refused too, never waved through.

use crate::stack::{FunctionDef, LOCAL_ACCOUNT, LOCAL_REGION, Stack};
use anyhow::{Result, anyhow, bail};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::{Arc, Mutex};

/// The access key id of a function's local credentials: how the proxy tells the functions apart, as
/// AWS tells their roles apart by their credentials. Letters only, as DynamoDB Local demands of an
/// access key (`LOCALPAYSTACKWEBHOOK`).
pub fn access_key_of(binary: &str) -> String {
    let mut key = String::from("LOCAL");
    key.extend(
        binary
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase()),
    );
    key
}

/// The access key of the local operator (set-up, seeding, tests writing their fixtures): not a
/// function, so not checked.
pub const OPERATOR_ACCESS_KEY: &str = "local";

/// The key SSM decrypts SecureStrings with locally (the account's default `aws/ssm` key in AWS).
const SSM_KEY_ARN: &str = "arn:aws:kms:us-east-1:123456789012:key/aws-ssm-default";

/// One statement of a function's policy.
#[derive(Debug, Clone)]
struct Statement {
    /// Where it was written, for messages: `Orders.Properties.Policies[2] (Sid Table)`.
    source: String,
    allow: bool,
    actions: Vec<String>,
    resources: Vec<String>,
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone)]
struct Condition {
    operator: String,
    if_exists: bool,
    key: String,
    values: Vec<String>,
}

/// One IAM authorization a request needs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Need {
    pub action: String,
    pub resource: String,
    pub context: BTreeMap<String, String>,
}

impl Need {
    fn new(action: &str, resource: impl Into<String>) -> Self {
        Self {
            action: action.to_string(),
            resource: resource.into(),
            context: BTreeMap::new(),
        }
    }
}

/// One grant of a policy: an action (pattern) of a statement, for the least-privilege report.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Grant {
    pub function: String,
    pub statement: String,
    pub action: String,
}

/// A function's policy: every statement of every document attached to it.
#[derive(Debug, Clone)]
pub struct Policy {
    pub function: FunctionDef,
    statements: Vec<Statement>,
}

/// The DynamoDB actions IAM knows (a statement naming another `dynamodb:` action is a mistake: it
/// allows nothing).
const DYNAMODB_ACTIONS: &[&str] = &[
    "BatchGetItem",
    "BatchWriteItem",
    "ConditionCheckItem",
    "CreateBackup",
    "CreateGlobalTable",
    "CreateTable",
    "CreateTableReplica",
    "DeleteBackup",
    "DeleteItem",
    "DeleteTable",
    "DeleteTableReplica",
    "DescribeBackup",
    "DescribeContinuousBackups",
    "DescribeContributorInsights",
    "DescribeEndpoints",
    "DescribeExport",
    "DescribeGlobalTable",
    "DescribeImport",
    "DescribeLimits",
    "DescribeStream",
    "DescribeTable",
    "DescribeTimeToLive",
    "ExportTableToPointInTime",
    "GetItem",
    "GetRecords",
    "GetShardIterator",
    "ImportTable",
    "ListBackups",
    "ListExports",
    "ListStreams",
    "ListTables",
    "ListTagsOfResource",
    "PartiQLDelete",
    "PartiQLInsert",
    "PartiQLSelect",
    "PartiQLUpdate",
    "PutItem",
    "Query",
    "RestoreTableFromBackup",
    "Scan",
    "TagResource",
    "UntagResource",
    "UpdateContinuousBackups",
    "UpdateItem",
    "UpdateTable",
    "UpdateTimeToLive",
];

/// Condition operators the check evaluates (each may end in `IfExists`).
const OPERATORS: &[&str] = &["StringEquals", "StringLike", "ArnEquals", "ArnLike"];

impl Policy {
    /// `function`'s statements from the stack's template. A statement of a shape the check does not
    /// understand (`NotAction`, `NotResource`, an unknown condition operator, an action IAM does not
    /// have) is an error naming where it is written.
    pub fn of(stack: &Stack, function: &FunctionDef) -> Result<Self> {
        let mut statements = Vec::new();
        for (source, document) in stack.function_policies(function)? {
            let list = match &document["Statement"] {
                Value::Array(items) => items.clone(),
                Value::Object(_) => vec![document["Statement"].clone()],
                _ => bail!("{source}: the policy has no Statement list"),
            };
            for (index, statement) in list.iter().enumerate() {
                let at = match statement["Sid"].as_str() {
                    Some(sid) => format!("{source} (Sid {sid})"),
                    None => format!("{source} (Statement[{index}])"),
                };
                statements.push(parse_statement(&at, statement)?);
            }
        }
        Ok(Self {
            function: function.clone(),
            statements,
        })
    }

    /// Every action pattern each statement allows.
    pub fn grants(&self) -> Vec<Grant> {
        self.statements
            .iter()
            .filter(|s| s.allow)
            .flat_map(|s| {
                s.actions.iter().map(|action| Grant {
                    function: self.function.binary.clone(),
                    statement: s.source.clone(),
                    action: action.clone(),
                })
            })
            .collect()
    }

    /// The grants that allow `need`, or `Err` when none does or a statement denies it.
    pub fn decide(&self, need: &Need) -> Result<Vec<Grant>, Refusal> {
        let mut allowed_by = Vec::new();
        for statement in &self.statements {
            let Some(action) = statement
                .actions
                .iter()
                .find(|pattern| matches_pattern(pattern, &need.action, true))
            else {
                continue;
            };
            let resource_matches = statement
                .resources
                .iter()
                .any(|pattern| matches_pattern(pattern, &need.resource, false));
            if !resource_matches || !statement.conditions.iter().all(|c| c.holds(&need.context)) {
                continue;
            }
            if !statement.allow {
                return Err(Refusal {
                    need: need.clone(),
                    explicit: Some(statement.source.clone()),
                });
            }
            allowed_by.push(Grant {
                function: self.function.binary.clone(),
                statement: statement.source.clone(),
                action: action.clone(),
            });
        }
        if allowed_by.is_empty() {
            Err(Refusal {
                need: need.clone(),
                explicit: None,
            })
        } else {
            Ok(allowed_by)
        }
    }
}

fn parse_statement(at: &str, statement: &Value) -> Result<Statement> {
    let object = statement
        .as_object()
        .ok_or_else(|| anyhow!("{at}: a statement must be a mapping"))?;
    for key in object.keys() {
        if !["Sid", "Effect", "Action", "Resource", "Condition"].contains(&key.as_str()) {
            bail!(
                "{at}: the local IAM check does not understand {key} (it reads Effect, Action, \
                 Resource and Condition); it would rather stop than guess"
            );
        }
    }
    let allow = match statement["Effect"].as_str() {
        Some("Allow") => true,
        Some("Deny") => false,
        other => bail!("{at}: Effect must be Allow or Deny, not {other:?}"),
    };
    let actions = strings(at, "Action", &statement["Action"])?;
    for action in &actions {
        let (service, name) = action
            .split_once(':')
            .ok_or_else(|| anyhow!("{at}: {action:?} is not service:Action"))?;
        if service.eq_ignore_ascii_case("dynamodb")
            && !name.contains(['*', '?'])
            && !DYNAMODB_ACTIONS
                .iter()
                .any(|a| a.eq_ignore_ascii_case(name))
        {
            bail!(
                "{at}: {action} is not an IAM action (a transaction is authorised by each of its \
                 items' own actions: PutItem, UpdateItem, DeleteItem, ConditionCheckItem, GetItem)"
            );
        }
    }
    let resources = strings(at, "Resource", &statement["Resource"])?;
    let mut conditions = Vec::new();
    if let Some(block) = statement.get("Condition") {
        let block = block
            .as_object()
            .ok_or_else(|| anyhow!("{at}: Condition must be a mapping"))?;
        for (operator, tests) in block {
            let (base, if_exists) = match operator.strip_suffix("IfExists") {
                Some(base) => (base, true),
                None => (operator.as_str(), false),
            };
            if !OPERATORS.contains(&base) {
                bail!(
                    "{at}: the local IAM check does not understand condition operator {operator}"
                );
            }
            let tests = tests
                .as_object()
                .ok_or_else(|| anyhow!("{at}: {operator} must map keys to values"))?;
            for (key, values) in tests {
                conditions.push(Condition {
                    operator: base.to_string(),
                    if_exists,
                    key: key.clone(),
                    values: strings(at, key, values)?,
                });
            }
        }
    }
    Ok(Statement {
        source: at.to_string(),
        allow,
        actions,
        resources,
        conditions,
    })
}

fn strings(at: &str, what: &str, value: &Value) -> Result<Vec<String>> {
    match value {
        Value::String(text) => Ok(vec![text.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(String::from)
                    .ok_or_else(|| anyhow!("{at}: every {what} must be a string"))
            })
            .collect(),
        other => bail!("{at}: {what} must be a string or a list of strings, not {other}"),
    }
}

impl Condition {
    fn holds(&self, context: &BTreeMap<String, String>) -> bool {
        // Condition keys are case-insensitive.
        let Some(actual) = context
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(&self.key))
            .map(|(_, value)| value)
        else {
            return self.if_exists;
        };
        self.values
            .iter()
            .any(|expected| match self.operator.as_str() {
                "StringEquals" | "ArnEquals" => expected == actual,
                _ => matches_pattern(expected, actual, false),
            })
    }
}

/// IAM's wildcards: `*` any run of characters, `?` any one. Actions compare without case.
pub fn matches_pattern(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let (pattern, text): (Vec<char>, Vec<char>) = if ignore_case {
        (
            pattern.to_lowercase().chars().collect(),
            text.to_lowercase().chars().collect(),
        )
    } else {
        (pattern.chars().collect(), text.chars().collect())
    };
    // Iterative glob matching with backtracking to the last star.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub need: Need,
    /// The statement that denies it, if one does; otherwise no statement allows it.
    pub explicit: Option<String>,
}

/// A request as the check sees it: the signing scope of its `Authorization` header, its target
/// header, path and body.
#[derive(Debug, Clone, Copy)]
pub struct WireRequest<'a> {
    pub authorization: Option<&'a str>,
    pub target: Option<&'a str>,
    pub method: &'a str,
    pub path: &'a str,
    pub body: &'a [u8],
}

/// The access key, region and service of a SigV4 `Authorization` header.
pub fn signing_scope(authorization: &str) -> Option<(&str, &str, &str)> {
    let credential = authorization.split("Credential=").nth(1)?;
    let credential = credential.split([',', ' ']).next()?;
    let mut parts = credential.split('/');
    let key = parts.next()?;
    let _date = parts.next()?;
    let region = parts.next()?;
    let service = parts.next()?;
    Some((key, region, service))
}

/// What `request` needs authorised. `Err` names a request the check cannot map.
pub fn needs(service: &str, request: &WireRequest<'_>) -> Result<Vec<Need>, String> {
    let (region, account) = (LOCAL_REGION, LOCAL_ACCOUNT);
    let json = || -> Result<Value, String> {
        serde_json::from_slice(request.body).map_err(|_| "a body that is not JSON".to_string())
    };
    let operation = |prefix: &str| -> Result<String, String> {
        request
            .target
            .and_then(|t| t.strip_prefix(prefix))
            .map(String::from)
            .ok_or_else(|| format!("a {service} request without an X-Amz-Target of {prefix}*"))
    };
    match service {
        "dynamodb" => {
            let operation = operation("DynamoDB_20120810.")?;
            let body = json()?;
            let table = |name: &str| {
                if name.starts_with("arn:") {
                    name.to_string()
                } else {
                    format!("arn:aws:dynamodb:{region}:{account}:table/{name}")
                }
            };
            let named = |body: &Value| -> Result<String, String> {
                body["TableName"]
                    .as_str()
                    .map(table)
                    .ok_or_else(|| format!("a DynamoDB {operation} without TableName"))
            };
            let action = format!("dynamodb:{operation}");
            Ok(match operation.as_str() {
                "BatchGetItem" | "BatchWriteItem" => body["RequestItems"]
                    .as_object()
                    .ok_or_else(|| format!("a DynamoDB {operation} without RequestItems"))?
                    .keys()
                    .map(|name| Need::new(&action, table(name)))
                    .collect(),
                "TransactWriteItems" | "TransactGetItems" => {
                    let mut needs = Vec::new();
                    for item in body["TransactItems"]
                        .as_array()
                        .ok_or_else(|| format!("a DynamoDB {operation} without TransactItems"))?
                    {
                        let (kind, inner) = item
                            .as_object()
                            .and_then(|o| o.iter().next())
                            .ok_or_else(|| "an empty transaction item".to_string())?;
                        let item_action = match kind.as_str() {
                            "Put" => "dynamodb:PutItem",
                            "Update" => "dynamodb:UpdateItem",
                            "Delete" => "dynamodb:DeleteItem",
                            "ConditionCheck" => "dynamodb:ConditionCheckItem",
                            "Get" => "dynamodb:GetItem",
                            other => return Err(format!("a transaction item of kind {other}")),
                        };
                        needs.push(Need::new(item_action, named(inner)?));
                    }
                    needs
                }
                "Query" | "Scan" => {
                    let mut resource = named(&body)?;
                    if let Some(index) = body["IndexName"].as_str() {
                        resource = format!("{resource}/index/{index}");
                    }
                    vec![Need::new(&action, resource)]
                }
                "ListTables" | "DescribeLimits" | "DescribeEndpoints" => {
                    vec![Need::new(&action, "*")]
                }
                "GetItem" | "PutItem" | "UpdateItem" | "DeleteItem" | "DescribeTable"
                | "CreateTable" | "DeleteTable" | "UpdateTable" | "UpdateTimeToLive"
                | "DescribeTimeToLive" => vec![Need::new(&action, named(&body)?)],
                other => return Err(format!("DynamoDB {other}, which the check does not map")),
            })
        }
        "ssm" => {
            let operation = operation("AmazonSSM.")?;
            let body = json()?;
            let parameter = |name: &str| {
                let name = name.strip_prefix('/').unwrap_or(name);
                format!("arn:aws:ssm:{region}:{account}:parameter/{name}")
            };
            let names: Vec<String> = match operation.as_str() {
                "GetParameter" | "PutParameter" | "DeleteParameter" => body["Name"]
                    .as_str()
                    .map(|n| vec![n.to_string()])
                    .ok_or_else(|| format!("an SSM {operation} without Name"))?,
                "GetParameters" => body["Names"]
                    .as_array()
                    .map(|names| {
                        names
                            .iter()
                            .filter_map(|n| n.as_str().map(String::from))
                            .collect()
                    })
                    .ok_or_else(|| "an SSM GetParameters without Names".to_string())?,
                other => return Err(format!("SSM {other}, which the check does not map")),
            };
            let decrypt = body["WithDecryption"].as_bool() == Some(true);
            let mut needs = Vec::new();
            for name in names {
                let arn = parameter(&name);
                needs.push(Need::new(&format!("ssm:{operation}"), arn.clone()));
                if decrypt {
                    let mut kms = Need::new("kms:Decrypt", SSM_KEY_ARN);
                    kms.context.insert(
                        "kms:ViaService".into(),
                        format!("ssm.{region}.amazonaws.com"),
                    );
                    kms.context
                        .insert("kms:EncryptionContext:PARAMETER_ARN".into(), arn);
                    needs.push(kms);
                }
            }
            Ok(needs)
        }
        "sns" => {
            let form: BTreeMap<String, String> =
                form_urlencoded::parse(request.body).into_owned().collect();
            let action = form
                .get("Action")
                .ok_or_else(|| "an SNS request without Action".to_string())?;
            let resource = match action.as_str() {
                "Publish" | "PublishBatch" => {
                    if form.contains_key("PhoneNumber") {
                        "*".to_string()
                    } else {
                        form.get("TopicArn")
                            .or_else(|| form.get("TargetArn"))
                            .cloned()
                            .ok_or_else(|| "an SNS Publish without a destination".to_string())?
                    }
                }
                "GetSMSAttributes" | "SetSMSAttributes" | "ListTopics" => "*".to_string(),
                other => return Err(format!("SNS {other}, which the check does not map")),
            };
            Ok(vec![Need::new(&format!("sns:{action}"), resource)])
        }
        "ses" => {
            if request.method == "POST" && request.path.starts_with("/v2/email/outbound-emails") {
                let body = json()?;
                let from = body["FromEmailAddress"]
                    .as_str()
                    .ok_or_else(|| "an SES SendEmail without FromEmailAddress".to_string())?;
                let address = from
                    .rsplit('<')
                    .next()
                    .unwrap_or(from)
                    .trim_end_matches('>')
                    .trim();
                Ok(vec![Need::new(
                    "ses:SendEmail",
                    format!("arn:aws:ses:{region}:{account}:identity/{address}"),
                )])
            } else {
                Err(format!(
                    "SES {} {}, which the check does not map",
                    request.method, request.path
                ))
            }
        }
        other => Err(format!(
            "a request to {other}, which no function is meant to call"
        )),
    }
}

/// The answer AWS gives a refused request, by service: status, headers and body.
#[derive(Debug, Clone)]
pub struct Denial {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    pub message: String,
}

impl Denial {
    fn new(service: &str, message: String) -> Self {
        let request_id = ulid::Ulid::new().to_string();
        let json_error = |kind: &str, content_type: &str| Denial {
            status: 400,
            headers: vec![
                ("content-type", content_type.to_string()),
                ("x-amzn-requestid", request_id.clone()),
            ],
            body: serde_json::json!({"__type": kind, "message": message})
                .to_string()
                .into_bytes(),
            message: message.clone(),
        };
        match service {
            "dynamodb" => json_error(
                "com.amazon.coral.service#AccessDeniedException",
                "application/x-amz-json-1.0",
            ),
            "sns" => {
                let escaped = message
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;");
                Denial {
                    status: 403,
                    headers: vec![
                        ("content-type", "text/xml".to_string()),
                        ("x-amzn-requestid", request_id.clone()),
                    ],
                    body: format!(
                        "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error>\
                         <Type>Sender</Type><Code>AuthorizationError</Code><Message>{escaped}</Message>\
                         </Error><RequestId>{request_id}</RequestId></ErrorResponse>"
                    )
                    .into_bytes(),
                    message,
                }
            }
            "ses" => Denial {
                status: 403,
                headers: vec![
                    ("content-type", "application/json".to_string()),
                    ("x-amzn-errortype", "AccessDeniedException".to_string()),
                    ("x-amzn-requestid", request_id.clone()),
                ],
                body: serde_json::json!({"message": message})
                    .to_string()
                    .into_bytes(),
                message,
            },
            // SSM and anything else speaking JSON 1.1.
            _ => json_error("AccessDeniedException", "application/x-amz-json-1.1"),
        }
    }
}

/// Every function's policy, and a record of the grants the calls used.
#[derive(Debug)]
pub struct Gate {
    policies: BTreeMap<String, Policy>,
    used: Mutex<BTreeSet<Grant>>,
    /// Where used grants are appended (one JSON line each, once per process), for the report.
    usage_file: Option<std::path::PathBuf>,
}

impl Gate {
    /// The policies of every function of `stack`'s template.
    pub fn new(stack: &Stack) -> Result<Arc<Self>> {
        let mut policies = BTreeMap::new();
        for function in stack.template().functions() {
            let policy = Policy::of(stack, &function)?;
            policies.insert(function.binary.clone(), policy);
        }
        let usage_file = std::env::var_os("KITCHEN_IAM_USAGE_DIR").map(|dir| {
            std::path::PathBuf::from(dir).join(format!("iam-usage-{}.jsonl", std::process::id()))
        });
        Ok(Arc::new(Self {
            policies,
            used: Mutex::new(BTreeSet::new()),
            usage_file,
        }))
    }

    pub fn policy(&self, binary: &str) -> Option<&Policy> {
        self.policies.get(binary)
    }

    /// The function whose local credentials carry `access_key`.
    pub fn function_of_key(&self, access_key: &str) -> Option<&str> {
        self.policies
            .keys()
            .find(|binary| access_key_of(binary) == access_key)
            .map(String::as_str)
    }

    /// Checks one request of `binary`'s. `Err` is the answer to give instead of forwarding it.
    pub fn check(
        &self,
        binary: &str,
        service: &str,
        request: &WireRequest<'_>,
    ) -> Result<(), Denial> {
        let principal =
            format!("arn:aws:sts::{LOCAL_ACCOUNT}:assumed-role/kitchen-{binary}-role/{binary}");
        let Some(policy) = self.policies.get(binary) else {
            return Err(Denial::new(
                service,
                format!("User: {principal} is not a function of template.yaml"),
            ));
        };
        let needs = match needs(service, request) {
            Ok(needs) => needs,
            Err(unmapped) => {
                let message = format!(
                    "User: {principal} made {unmapped}; the local IAM check refuses what it cannot map"
                );
                eprintln!("iam: DENIED {binary}: {unmapped}");
                return Err(Denial::new(service, message));
            }
        };
        let mut grants = Vec::new();
        for need in &needs {
            match policy.decide(need) {
                Ok(allowed_by) => grants.extend(allowed_by),
                Err(refusal) => {
                    let why = match &refusal.explicit {
                        Some(statement) => format!("with an explicit deny in {statement}"),
                        None => format!(
                            "because no identity-based policy allows the {} action (template.yaml, {}'s Policies)",
                            need.action, policy.function.logical_id
                        ),
                    };
                    let message = format!(
                        "User: {principal} is not authorized to perform: {} on resource: {} {why}",
                        need.action, need.resource
                    );
                    eprintln!("iam: DENIED {binary}: {} on {}", need.action, need.resource);
                    return Err(Denial::new(service, message));
                }
            }
        }
        self.record(grants);
        Ok(())
    }

    /// Notes `grants` as used; those new to this process are appended to its usage file. Calls made
    /// side by side record at once, so the lines go out in one write, under the lock: two records
    /// never share a line.
    fn record(&self, grants: Vec<Grant>) {
        let mut used = self.used.lock().expect("usage lock");
        let fresh: Vec<Grant> = grants
            .into_iter()
            .filter(|g| used.insert(g.clone()))
            .collect();
        if fresh.is_empty() {
            return;
        }
        let Some(path) = &self.usage_file else {
            return;
        };
        let mut lines = String::new();
        for grant in fresh {
            lines.push_str(&serde_json::to_string(&grant).unwrap_or_default());
            lines.push('\n');
        }
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = file.write_all(lines.as_bytes());
        }
        drop(used);
    }

    /// The grants used so far by this process.
    pub fn used(&self) -> BTreeSet<Grant> {
        self.used.lock().expect("usage lock").clone()
    }
}

/// An HTTP client for a function's SDK clients in tests: every request passes [`Gate::check`] for
/// that function before it reaches the inner client; a refused one gets AWS's answer instead.
#[derive(Debug, Clone)]
pub struct GatedHttpClient {
    gate: Arc<Gate>,
    function: String,
    inner: aws_smithy_runtime_api::client::http::SharedHttpClient,
}

impl GatedHttpClient {
    pub fn new(
        gate: Arc<Gate>,
        function: &str,
        inner: aws_smithy_runtime_api::client::http::SharedHttpClient,
    ) -> Self {
        Self {
            gate,
            function: function.to_string(),
            inner,
        }
    }
}

#[derive(Debug)]
struct GatedConnector {
    gate: Arc<Gate>,
    function: String,
    inner: aws_smithy_runtime_api::client::http::SharedHttpConnector,
}

impl aws_smithy_runtime_api::client::http::HttpClient for GatedHttpClient {
    fn http_connector(
        &self,
        settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        aws_smithy_runtime_api::client::http::SharedHttpConnector::new(GatedConnector {
            gate: self.gate.clone(),
            function: self.function.clone(),
            inner: self.inner.http_connector(settings, components),
        })
    }
}

impl aws_smithy_runtime_api::client::http::HttpConnector for GatedConnector {
    fn call(
        &self,
        request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        use aws_smithy_runtime_api::client::http::HttpConnectorFuture;
        let authorization = request.headers().get("authorization");
        let service = authorization
            .and_then(signing_scope)
            .map(|(_, _, service)| service.to_string())
            .unwrap_or_default();
        let path = request
            .uri()
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|at| &rest[at..]))
            .unwrap_or("/")
            .to_string();
        let wire = WireRequest {
            authorization,
            target: request.headers().get("x-amz-target"),
            method: request.method(),
            path: &path,
            body: request.body().bytes().unwrap_or_default(),
        };
        match self.gate.check(&self.function, &service, &wire) {
            Ok(()) => self.inner.call(request),
            Err(denial) => {
                let mut response = aws_smithy_runtime_api::http::Response::new(
                    aws_smithy_runtime_api::http::StatusCode::try_from(denial.status)
                        .expect("a valid status"),
                    aws_smithy_types::body::SdkBody::from(denial.body),
                );
                for (name, value) in denial.headers {
                    response.headers_mut().insert(name, value);
                }
                HttpConnectorFuture::ready(Ok(response))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::{LocalBindings, Template};

    fn gate() -> Arc<Gate> {
        let stack = Stack::new(
            &Template::from_repo().unwrap(),
            &LocalBindings::new("kitchen", "kitchen-events")
                .parameter("PaystackCallbackUrl", "http://127.0.0.1:9000/docs"),
        )
        .unwrap();
        Gate::new(&stack).unwrap()
    }

    fn dynamodb(operation: &str, body: Value) -> (String, Vec<u8>) {
        (
            format!("DynamoDB_20120810.{operation}"),
            body.to_string().into_bytes(),
        )
    }

    fn check(
        gate: &Gate,
        function: &str,
        service: &str,
        target: &str,
        body: &[u8],
    ) -> Result<(), Denial> {
        gate.check(
            function,
            service,
            &WireRequest {
                authorization: None,
                target: Some(target),
                method: "POST",
                path: "/",
                body,
            },
        )
    }

    #[test]
    fn grants_recorded_side_by_side_are_a_line_each() {
        let dir = std::env::temp_dir().join(format!("iam-usage-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("usage.jsonl");
        let _ = std::fs::remove_file(&path);
        let gate = Gate {
            policies: BTreeMap::new(),
            used: Mutex::new(BTreeSet::new()),
            usage_file: Some(path.clone()),
        };
        std::thread::scope(|scope| {
            for thread in 0..4 {
                let gate = &gate;
                scope.spawn(move || {
                    for n in 0..200 {
                        gate.record(vec![Grant {
                            function: format!("f{thread}"),
                            statement: format!("statement {n} of a name long enough to split"),
                            action: "dynamodb:Query".into(),
                        }]);
                    }
                });
            }
        });
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 800);
        for line in lines {
            serde_json::from_str::<Grant>(line).unwrap_or_else(|err| panic!("{line}: {err}"));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn wildcards_match_as_iam_matches_them() {
        assert!(matches_pattern("dynamodb:*", "DynamoDB:GetItem", true));
        assert!(matches_pattern(
            "arn:aws:dynamodb:*:*:table/kitchen/index/*",
            "arn:aws:dynamodb:us-east-1:1:table/kitchen/index/gsi1",
            false
        ));
        assert!(!matches_pattern(
            "arn:aws:dynamodb:*:*:table/kitchen",
            "arn:aws:dynamodb:us-east-1:1:table/kitchen/index/gsi1",
            false
        ));
        assert!(matches_pattern("a?c", "abc", false));
        assert!(!matches_pattern("a?c", "ac", false));
        assert!(matches_pattern("*", "", false));
    }

    #[test]
    fn a_transaction_needs_each_items_own_action() {
        let (target, body) = dynamodb(
            "TransactWriteItems",
            serde_json::json!({"TransactItems": [
                {"Put": {"TableName": "kitchen", "Item": {}}},
                {"ConditionCheck": {"TableName": "kitchen", "Key": {}}},
            ]}),
        );
        let request = WireRequest {
            authorization: None,
            target: Some(&target),
            method: "POST",
            path: "/",
            body: &body,
        };
        let needs = needs("dynamodb", &request).unwrap();
        let actions: Vec<&str> = needs.iter().map(|n| n.action.as_str()).collect();
        assert_eq!(actions, ["dynamodb:PutItem", "dynamodb:ConditionCheckItem"]);
    }

    #[test]
    fn a_query_of_an_index_needs_the_index_resource() {
        let gate = gate();
        let (target, body) = dynamodb(
            "Query",
            serde_json::json!({"TableName": "kitchen", "IndexName": "gsi1"}),
        );
        check(&gate, "dishes", "dynamodb", &target, &body).unwrap();
        // The dishes function may query the table's indexes; the notifier's policy has no index statement.
        let denial = check(&gate, "notifier", "dynamodb", &target, &body).unwrap_err();
        assert!(
            denial.message.contains("table/kitchen/index/gsi1"),
            "{}",
            denial.message
        );
        assert_eq!(denial.status, 400);
        assert!(
            String::from_utf8(denial.body)
                .unwrap()
                .contains("AccessDeniedException")
        );
    }

    #[test]
    fn a_read_only_function_cannot_write() {
        let gate = gate();
        let (target, body) = dynamodb(
            "PutItem",
            serde_json::json!({"TableName": "kitchen", "Item": {}}),
        );
        let denial = check(&gate, "dishes", "dynamodb", &target, &body).unwrap_err();
        assert!(
            denial.message.contains("dynamodb:PutItem"),
            "{}",
            denial.message
        );
        assert!(denial.message.contains("Dishes"), "{}", denial.message);
        // Nor write to another table, whatever it may do on its own.
        let (target, body) = dynamodb(
            "GetItem",
            serde_json::json!({"TableName": "other", "Key": {}}),
        );
        assert!(check(&gate, "orders", "dynamodb", &target, &body).is_err());
    }

    #[test]
    fn a_text_to_a_phone_needs_publish_on_star_and_an_event_needs_the_topic() {
        let gate = gate();
        fn publish(form: &str) -> WireRequest<'_> {
            WireRequest {
                authorization: None,
                target: None,
                method: "POST",
                path: "/",
                body: form.as_bytes(),
            }
        }
        let sms = "Action=Publish&PhoneNumber=%2B2348000000000&Message=hi";
        gate.check("notifier", "sns", &publish(sms)).unwrap();
        let denial = gate.check("orders", "sns", &publish(sms)).unwrap_err();
        assert_eq!(denial.status, 403);
        assert!(
            String::from_utf8(denial.body)
                .unwrap()
                .contains("AuthorizationError")
        );
        let event = "Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Akitchen-events&Message=x";
        gate.check("orders", "sns", &publish(event)).unwrap();
        assert!(
            gate.check("notifier", "sns", &publish(event)).is_ok(),
            "the notifier may publish anywhere (*)"
        );
        assert!(gate.check("dishes", "sns", &publish(event)).is_err());
    }

    #[test]
    fn a_secure_parameter_needs_ssm_and_the_kms_decrypt_ssm_makes() {
        let gate = gate();
        let body = serde_json::json!({
            "Names": ["/kitchen/paystack-secret-key", "/kitchen/cursor-key"],
            "WithDecryption": true,
        })
        .to_string();
        check(
            &gate,
            "payments",
            "ssm",
            "AmazonSSM.GetParameters",
            body.as_bytes(),
        )
        .unwrap();
        let used = gate.used();
        for policy in ["PaystackSecretReadPolicy", "CursorKeyReadPolicy"] {
            assert!(
                used.iter().any(|g| g.function == "payments"
                    && g.action == "kms:Decrypt"
                    && g.statement.starts_with(policy)),
                "{policy}: {used:?}"
            );
        }
        // Each name needs its own grant: dishes may read the cursor key, not the Paystack key.
        assert!(
            check(
                &gate,
                "dishes",
                "ssm",
                "AmazonSSM.GetParameters",
                body.as_bytes()
            )
            .is_err()
        );
        // And the template grants GetParameters, the one call a cold start makes, not GetParameter.
        let one = serde_json::json!({"Name": "/kitchen/cursor-key", "WithDecryption": true});
        assert!(
            check(
                &gate,
                "dishes",
                "ssm",
                "AmazonSSM.GetParameter",
                one.to_string().as_bytes()
            )
            .is_err()
        );
    }

    #[test]
    fn what_the_check_cannot_map_is_refused() {
        let gate = gate();
        let (target, body) = dynamodb(
            "ExecuteStatement",
            serde_json::json!({"Statement": "SELECT"}),
        );
        let denial = check(&gate, "admin", "dynamodb", &target, &body).unwrap_err();
        assert!(
            denial.message.contains("ExecuteStatement"),
            "{}",
            denial.message
        );
        assert!(check(&gate, "admin", "s3", "x", b"{}").is_err());
        assert!(
            check(
                &gate,
                "nobody",
                "dynamodb",
                "DynamoDB_20120810.GetItem",
                b"{}"
            )
            .is_err()
        );
    }

    fn policy_of(statement: &str) -> Result<Policy> {
        let text = format!(
            "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Metadata: {{BuildProperties: {{Binary: f}}}}\n    Properties:\n      Policies:\n        - Version: '2012-10-17'\n          Statement:\n            - {statement}\n"
        );
        let template = Template::parse(&text)?;
        let stack = Stack::new(&template, &LocalBindings::new("t", "e"))?;
        Policy::of(&stack, &template.function("f")?)
    }

    #[test]
    fn statements_the_check_does_not_understand_stop_it() {
        for (statement, expected) in [
            (
                "{Effect: Allow, NotAction: 'sns:*', Resource: '*'}",
                "NotAction",
            ),
            (
                "{Effect: Allow, Action: 'dynamodb:TransactWriteItems', Resource: '*'}",
                "not an IAM action",
            ),
            (
                "{Effect: Allow, Action: 'sns:Publish', Resource: '*', Condition: {DateGreaterThan: {aws:CurrentTime: x}}}",
                "DateGreaterThan",
            ),
            (
                "{Effect: Maybe, Action: 'sns:Publish', Resource: '*'}",
                "Effect",
            ),
            ("{Effect: Allow, Action: [], Resource: '*'}", "Action"),
        ] {
            let err = policy_of(statement).unwrap_err().to_string();
            assert!(err.contains(expected), "{statement}: {err}");
            assert!(
                err.contains("F.Properties.Policies[0]"),
                "{statement}: {err}"
            );
        }
    }

    #[test]
    fn an_explicit_deny_wins() {
        let text = "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Metadata: {BuildProperties: {Binary: f}}\n    Properties:\n      Policies:\n        - Statement:\n            - {Effect: Allow, Action: 'sns:*', Resource: '*'}\n            - {Sid: NoSms, Effect: Deny, Action: 'sns:Publish', Resource: '*'}\n";
        let template = Template::parse(text).unwrap();
        let stack = Stack::new(&template, &LocalBindings::new("t", "e")).unwrap();
        let policy = Policy::of(&stack, &template.function("f").unwrap()).unwrap();
        let refusal = policy.decide(&Need::new("sns:Publish", "*")).unwrap_err();
        assert!(refusal.explicit.unwrap().contains("NoSms"));
        assert!(policy.decide(&Need::new("sns:ListTopics", "*")).is_ok());
    }

    #[test]
    fn the_signing_scope_names_the_key_and_service() {
        let header = "AWS4-HMAC-SHA256 Credential=local-orders/20261201/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00";
        assert_eq!(
            signing_scope(header),
            Some(("local-orders", "us-east-1", "dynamodb"))
        );
        assert_eq!(signing_scope("Bearer x"), None);
    }
}
