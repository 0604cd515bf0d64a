//! template.yaml's alarms and the metrics the code emits (shared/src/metrics.rs's registry) agree:
//!
//! - an alarm on a `Kitchen` metric watches one the code emits: the same name and dimension names
//!   (an alarm on anything else watches a metric that never gets a data point, and stays quiet);
//! - every metric that counts money or messages gone astray has an alarm.
//!
//! Alarms on `AWS/*` metrics are AWS's to name and are not checked. Both plain alarms
//! (`MetricName`, `Namespace`, `Dimensions`) and metric-math alarms (`Metrics[].MetricStat.Metric`)
//! are read.

use devkit::repo_root;
use kitchen::metrics::{self, Concern, Declared};
use serde_yaml_ng::Value;
use std::collections::BTreeSet;

/// One metric an alarm watches.
#[derive(Debug)]
struct Watched {
    alarm: String,
    namespace: String,
    name: String,
    /// Names and, where they are plain strings, values (a `!Ref` is not).
    dimensions: Vec<(String, Option<String>)>,
}

impl Watched {
    fn dimension_names(&self) -> BTreeSet<&str> {
        self.dimensions
            .iter()
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// Whether every `Service` dimension has the value the code gives it.
    fn has_our_service(&self) -> bool {
        self.dimensions
            .iter()
            .filter(|(name, _)| name == metrics::SERVICE.0)
            .all(|(_, value)| value.as_deref() == Some(metrics::SERVICE.1))
    }

    fn describe(&self) -> String {
        let names: Vec<&str> = self.dimension_names().into_iter().collect();
        format!("{}/{} {{{}}}", self.namespace, self.name, names.join(", "))
    }
}

/// Whether `watched` is one of the series `metric` is published as.
fn is_published_as(metric: &Declared, watched: &Watched) -> bool {
    watched.namespace == metrics::NAMESPACE
        && watched.name == metric.name
        && metric
            .dimension_sets()
            .iter()
            .any(|set| set.iter().copied().collect::<BTreeSet<_>>() == watched.dimension_names())
}

/// Every metric watched by an alarm of `template`.
fn watched_metrics(template: &Value) -> Vec<Watched> {
    let mut watched = Vec::new();
    let Some(resources) = template["Resources"].as_mapping() else {
        return watched;
    };
    for (id, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::CloudWatch::Alarm") {
            continue;
        }
        let alarm = id.as_str().unwrap_or("?").to_string();
        let properties = &resource["Properties"];
        let plain = std::iter::once(properties).filter(|p| p["MetricName"].is_string());
        let math = properties["Metrics"]
            .as_sequence()
            .into_iter()
            .flatten()
            .map(|query| &query["MetricStat"]["Metric"])
            .filter(|metric| metric.is_mapping());
        for metric in plain.chain(math) {
            let text = |key: &str| metric[key].as_str().unwrap_or("").to_string();
            let dimensions = metric["Dimensions"]
                .as_sequence()
                .into_iter()
                .flatten()
                .map(|dimension| {
                    let name = dimension["Name"].as_str().unwrap_or("").to_string();
                    (name, dimension["Value"].as_str().map(str::to_string))
                })
                .collect();
            watched.push(Watched {
                alarm: alarm.clone(),
                namespace: text("Namespace"),
                name: text("MetricName"),
                dimensions,
            });
        }
    }
    watched
}

/// What is wrong between `template`'s alarms and `registry`; nothing when they agree.
fn disagreements(template: &Value, registry: &[Declared]) -> Vec<String> {
    let watched = watched_metrics(template);
    let mut wrong = Vec::new();
    for metric in &watched {
        if metric.namespace.starts_with("AWS/") {
            continue;
        }
        if !registry.iter().any(|known| is_published_as(known, metric)) {
            wrong.push(format!(
                "{} watches {}, which the code does not emit (shared/src/metrics.rs)",
                metric.alarm,
                metric.describe()
            ));
            continue;
        }
        if !metric.has_our_service() {
            wrong.push(format!(
                "{} watches {} with another {} than the code's {:?}",
                metric.alarm,
                metric.describe(),
                metrics::SERVICE.0,
                metrics::SERVICE.1
            ));
        }
    }
    for metric in registry {
        let concern = match metric.concern {
            Concern::Money => "money",
            Concern::Messages => "messages",
            Concern::Other => continue,
        };
        if !watched
            .iter()
            .any(|w| is_published_as(metric, w) && w.has_our_service())
        {
            wrong.push(format!(
                "{}/{} counts {concern} gone astray, but no alarm watches it",
                metrics::NAMESPACE,
                metric.name
            ));
        }
    }
    wrong
}

#[test]
fn the_templates_alarms_watch_what_the_code_emits_and_every_loss_of_money_or_messages() {
    let text = std::fs::read_to_string(repo_root().join("template.yaml")).unwrap();
    let template: Value = serde_yaml_ng::from_str(&text).unwrap();
    // The template was read: the first rule would hold of a template whose alarms went unseen.
    let kitchen_alarms = watched_metrics(&template)
        .iter()
        .filter(|metric| metric.namespace == metrics::NAMESPACE)
        .count();
    assert!(
        kitchen_alarms >= 5,
        "{kitchen_alarms} Kitchen metrics watched"
    );
    let wrong = disagreements(&template, &metrics::REGISTRY);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// ------------------------------------------------------------------ the check itself

/// A registry of two: one money metric without dimensions, and SmsFailed (published by recipient
/// and event type, and under Service alone).
fn registry() -> Vec<Declared> {
    let lost = Declared {
        name: "ThingsLost",
        dimensions: &[],
        rollup: false,
        concern: Concern::Money,
    };
    vec![lost, metrics::SMS_FAILED.declared()]
}

fn template(alarms: &str) -> Value {
    serde_yaml_ng::from_str(&format!("Resources:\n{alarms}")).unwrap()
}

/// A plain alarm on `metric` with dimensions given as YAML flow mappings.
fn plain_alarm(id: &str, namespace: &str, metric: &str, dimensions: &str) -> String {
    format!(
        "  {id}:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: {namespace}
      MetricName: {metric}
      Dimensions: [{dimensions}]
      Statistic: Sum
"
    )
}

const SERVICE: &str = "{Name: Service, Value: kitchen-api}";

#[test]
fn a_template_alarming_on_every_loss_and_on_nothing_else_agrees() {
    let alarms = plain_alarm("Lost", "Kitchen", "ThingsLost", SERVICE)
        + &plain_alarm("Sms", "Kitchen", "SmsFailed", SERVICE)
        + &plain_alarm(
            "Crashes",
            "AWS/Lambda",
            "Errors",
            "{Name: FunctionName, Value: !Ref Orders}",
        );
    assert_eq!(
        disagreements(&template(&alarms), &registry()),
        Vec::<String>::new()
    );
}

#[test]
fn an_alarm_on_a_metric_the_code_does_not_emit_and_a_loss_without_an_alarm_both_fail() {
    let alarms = plain_alarm("Orphan", "Kitchen", "ThingsFound", SERVICE)
        + &plain_alarm("Sms", "Kitchen", "SmsFailed", SERVICE);
    let wrong = disagreements(&template(&alarms), &registry());
    assert_eq!(
        wrong,
        [
            "Orphan watches Kitchen/ThingsFound {Service}, which the code does not emit \
             (shared/src/metrics.rs)",
            "Kitchen/ThingsLost counts money gone astray, but no alarm watches it",
        ]
    );
}

#[test]
fn a_metric_math_alarm_is_read_metric_by_metric_and_dimension_names_must_match_a_published_set() {
    let alarms = plain_alarm("Lost", "Kitchen", "ThingsLost", SERVICE)
        + "  Sms:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Metrics:
        - Id: total
          Expression: SUM([kitchen, crashes])
          ReturnData: true
        - Id: kitchen
          ReturnData: false
          MetricStat:
            Metric:
              Namespace: Kitchen
              MetricName: SmsFailed
              Dimensions:
                - {Name: Service, Value: kitchen-api}
                - {Name: Recipient, Value: kitchen}
            Period: 300
            Stat: Sum
        - Id: crashes
          ReturnData: false
          MetricStat:
            Metric:
              Namespace: AWS/Lambda
              MetricName: Errors
              Dimensions: [{Name: FunctionName, Value: !Ref Notifier}]
            Period: 300
            Stat: Sum
";
    let wrong = disagreements(&template(&alarms), &registry());
    assert_eq!(
        wrong,
        [
            "Sms watches Kitchen/SmsFailed {Recipient, Service}, which the code does not emit \
             (shared/src/metrics.rs)",
            "Kitchen/SmsFailed counts messages gone astray, but no alarm watches it",
        ]
    );
}

#[test]
fn an_alarm_on_another_service_value_or_another_namespace_watches_nothing() {
    let alarms = plain_alarm(
        "Lost",
        "Kitchen",
        "ThingsLost",
        "{Name: Service, Value: kitchen-web}",
    ) + &plain_alarm("Sms", "Kitchen", "SmsFailed", SERVICE)
        + &plain_alarm("Elsewhere", "Kitchen/Staging", "ThingsLost", SERVICE);
    let wrong = disagreements(&template(&alarms), &registry());
    assert_eq!(
        wrong,
        [
            "Lost watches Kitchen/ThingsLost {Service} with another Service than the code's \
             \"kitchen-api\"",
            "Elsewhere watches Kitchen/Staging/ThingsLost {Service}, which the code does not emit \
             (shared/src/metrics.rs)",
            "Kitchen/ThingsLost counts money gone astray, but no alarm watches it",
        ]
    );
}
