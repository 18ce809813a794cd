# The root module planned against the real providers' schemas (hack/tfplan.sh
# test): computed attributes are unknown as before a real apply, so a for_each
# keyed on an ARN or an ID fails here as it fails in the cloud.

provider "aws" {
  region = "eu-west-1"
}

variables {
  environment          = "dev"
  lambda_artifacts_dir = "../build/lambda"
  rds                  = { enabled = true }
}

# The repository's topology: a subscription with a filter policy beside one
# without, rules whose targets have different fields, a range key shared with
# a GSI, RDS clients and a Lambda failure destination known only after apply.
run "repository_topology" {
  command = plan

  assert {
    condition     = length(local.topics[0].subscriptions) == 2 && local.topics[0].subscriptions[0].filterPolicy == null
    error_message = "order-analytics has no filter policy"
  }
  assert {
    condition     = jsondecode(local.topics[0].subscriptions[1].filterPolicy) == { detail = { total = [{ numeric = [">", 1000] }] } }
    error_message = "order-alerts' filter policy is passed as its JSON"
  }
  assert {
    condition     = alltrue([for r in local.rules : can(jsondecode(r.pattern)) && length(r.targets) > 0])
    error_message = "every rule's pattern is passed as JSON"
  }
  assert {
    condition     = [for t in local.rules[2].targets : [t.queue, t.topic]] == [["orders", null], [null, "order-events"]]
    error_message = "orders-placed targets the orders queue and the order-events topic, each with the other kinds null"
  }
  # lambda-files exits at start without EVENTPLANE_FILES_TABLE, and retries
  # permanent failures without EVENTPLANE_DEAD_LETTER_URL.
  assert {
    condition     = local.lambda_environment["files"]["EVENTPLANE_FILES_TABLE"] == "eventplane-dev-files" && local.lambda_environment["files"]["EVENTPLANE_BUS"] == "eventplane-dev-main"
    error_message = "lambda-files gets its results table and completion bus"
  }
  assert {
    condition     = alltrue([for f in local.lambdas : contains(keys(local.lambda_environment[f.name]), "EVENTPLANE_DEAD_LETTER_URL")])
    error_message = "every function gets the failure queue as its dead-letter queue"
  }
  assert {
    condition     = local.lambda_environment["ingest"]["EVENTPLANE_BUS"] == "eventplane-dev-main"
    error_message = "lambda-ingest puts events on the ingest bus"
  }
}

# Every optional field set in some entry and left out in another. (make iac
# also plans dev and prod with it given as the topology variable.)
run "variant_topology" {
  command = plan

  variables {
    topology_file = "testdata/topology-variants.yaml"
  }

  assert {
    condition     = [for s in local.topics[0].subscriptions : s.filterPolicy != null] == [false, true, true]
    error_message = "fan-a has no filter policy, fan-b and fan-c have one"
  }
  assert {
    condition     = [for t in local.rules[1].targets : t.inputPath] == [null, "$.detail", null]
    error_message = "only the lambda target of fan-out has an input path"
  }
  assert {
    condition     = local.buses[1].archive != null && local.buses[2].archive == null
    error_message = "audit is archived (default retention), scratch is not"
  }
  assert {
    condition     = output.table_names["indexed"] == "eventplane-dev-indexed"
    error_message = "the indexed table (range key shared with a GSI) is planned"
  }
  # Differently named: the roles, not the repository's names, choose the
  # ingest function, the alarm topic, the failure queue and the buses.
  assert {
    condition     = output.roles == { ingest_bus = "business", ingest_lambda = "http-in", alarm_topic = "pager", failure_queue = "undeliverable" }
    error_message = "the roles are read from the topology"
  }
  assert {
    condition     = local.lambda_environment["parse"]["EVENTPLANE_FILES_TABLE"] == "eventplane-dev-indexed" && local.lambda_environment["parse"]["EVENTPLANE_BUS"] == "eventplane-dev-audit" && local.lambda_environment["http-in"]["EVENTPLANE_BUS"] == "eventplane-dev-business"
    error_message = "each function gets its own table and bus"
  }
  # lambda-sqs exits at start without EVENTPLANE_ROUTES; its references
  # resolve to this environment's names.
  assert {
    condition     = jsondecode(local.lambda_environment["drain"]["EVENTPLANE_ROUTES"])[0].options == { table = "eventplane-dev-plain", key = { pk = "{{id}}" } }
    error_message = "drain gets its routes with the table reference resolved"
  }
  assert {
    condition     = jsondecode(local.lambda_environment["bare"]["EVENTPLANE_ROUTES"]) == [{ name = "all", handler = "log" }] && !contains(keys(local.lambda_environment["parse"]), "EVENTPLANE_ROUTES")
    error_message = "only lambda-sqs functions get routes"
  }
  assert {
    condition     = contains(keys(local.lambda_environment["drain"]), "EVENTPLANE_DEAD_LETTER_URL") && local.idempotency_table == null
    error_message = "drain dead-letters to its queue's dead-letter queue; the variant has no idempotency table"
  }
  assert {
    condition     = contains(keys(local.publishers), "pager") && !contains(keys(local.publishers), "alerts")
    error_message = "the daily summary publishes to the alarm topic"
  }
}
