# The platform: every AWS resource of eventplane, driven by api/topology.yaml.
# The environments (environments/<env>) call this module with their sizing.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  # A conditional would need both topologies to have one type; indexing a
  # tuple by a known index keeps the chosen one's own.
  topology = [var.topology, yamldecode(file(coalesce(var.topology_file, "${path.module}/../api/topology.yaml")))][var.topology != null ? 0 : 1]
  prefix   = "${var.project}-${var.environment}"
  tags     = merge(var.tags, { "eventplane:project" = var.project, "eventplane:environment" = var.environment })

  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.region
  partition = data.aws_partition.current.partition

  # The parts the platform needs, by role (api/topology.yaml: ingest, alarms,
  # failures): no name of the repository's topology is written here. The
  # outputs' preconditions say which role is missing.
  ingest_bus    = try(local.topology.ingest.bus, null)
  ingest_lambda = try(local.topology.ingest.lambda, null)
  alarm_topic   = try(local.topology.alarms.topic, null)
  failure_queue = try(local.topology.failures.queue, null)

  # The topology normalised to one shape per list. yamldecode gives each
  # entry only the fields the YAML sets, and a list(object(...)) variable
  # cannot take entries of different shapes where a field is free-form (a
  # subscription with a filter policy beside one without, rules with
  # different patterns). So every entry gets every field here: null where
  # the YAML leaves it out (the modules' optional() defaults then apply), and
  # the free-form event patterns and filter policies as JSON strings.
  buses = [for b in lookup(local.topology, "buses", []) : {
    name        = b.name
    description = lookup(b, "description", null)
    archive     = lookup(b, "archive", null) == null ? null : { retentionDays = lookup(b.archive, "retentionDays", null) }
  }]
  rules = [for r in lookup(local.topology, "rules", []) : {
    name        = r.name
    bus         = lookup(r, "bus", "default")
    description = lookup(r, "description", null)
    pattern     = jsonencode(r.pattern)
    targets = [for t in r.targets : {
      queue           = lookup(t, "queue", null)
      topic           = lookup(t, "topic", null)
      lambda          = lookup(t, "lambda", null)
      deadLetterQueue = lookup(t, "deadLetterQueue", null)
      inputPath       = lookup(t, "inputPath", null)
      inputTransformer = lookup(t, "inputTransformer", null) == null ? null : {
        inputPaths    = t.inputTransformer.inputPaths
        inputTemplate = t.inputTransformer.inputTemplate
      }
      retry = lookup(t, "retry", null) == null ? null : {
        maximumRetryAttempts   = lookup(t.retry, "maximumRetryAttempts", null)
        maximumEventAgeSeconds = lookup(t.retry, "maximumEventAgeSeconds", null)
      }
    }]
  }]
  schedules = [for s in lookup(local.topology, "schedules", []) : {
    name        = s.name
    description = lookup(s, "description", null)
    expression  = s.expression
    queue       = s.queue
  }]
  topics = [for t in lookup(local.topology, "topics", []) : {
    name = t.name
    subscriptions = [for s in lookup(t, "subscriptions", []) : {
      queue              = s.queue
      rawMessageDelivery = lookup(s, "rawMessageDelivery", null)
      filterPolicy       = lookup(s, "filterPolicy", null) == null ? null : jsonencode(s.filterPolicy)
      filterPolicyScope  = lookup(s, "filterPolicyScope", null)
    }]
  }]
  queues = [for q in lookup(local.topology, "queues", []) : {
    name                     = q.name
    fifo                     = lookup(q, "fifo", null)
    visibilityTimeoutSeconds = lookup(q, "visibilityTimeoutSeconds", null)
    retentionSeconds         = lookup(q, "retentionSeconds", null)
    maxReceiveCount          = lookup(q, "maxReceiveCount", null)
    deadLetter               = lookup(q, "deadLetter", true)
    delaySeconds             = lookup(q, "delaySeconds", null)
  }]
  tables = [for t in lookup(local.topology, "tables", []) : {
    name         = t.name
    hashKey      = { name = t.hashKey.name, type = t.hashKey.type }
    rangeKey     = lookup(t, "rangeKey", null) == null ? null : { name = t.rangeKey.name, type = t.rangeKey.type }
    ttlAttribute = lookup(t, "ttlAttribute", null)
    globalSecondaryIndexes = [for g in lookup(t, "globalSecondaryIndexes", []) : {
      name           = g.name
      hashKey        = { name = g.hashKey.name, type = g.hashKey.type }
      rangeKey       = lookup(g, "rangeKey", null) == null ? null : { name = g.rangeKey.name, type = g.rangeKey.type }
      projectionType = lookup(g, "projectionType", null)
    }]
  }]
  buckets = [for b in lookup(local.topology, "buckets", []) : {
    name        = b.name
    purpose     = lookup(b, "purpose", null)
    eventBridge = lookup(b, "eventBridge", null)
    expireDays  = lookup(b, "expireDays", null)
    transitions = [for t in lookup(b, "transitions", []) : { days = t.days, storageClass = t.storageClass }]
  }]
  # What an entry's "uses" names, every list present.
  lambdas = [for l in lookup(local.topology, "lambdas", []) : {
    name                = l.name
    handler             = l.handler
    description         = lookup(l, "description", null)
    memoryMb            = lookup(l, "memoryMb", null)
    timeoutSeconds      = lookup(l, "timeoutSeconds", 30)
    reservedConcurrency = lookup(l, "reservedConcurrency", null)
    table               = lookup(l, "table", null)
    bus                 = lookup(l, "bus", null)
    queue               = lookup(l, "queue", null) # lambda-sqs: its trigger
    batchSize           = lookup(l, "batchSize", null)
    routes              = jsonencode(lookup(l, "routes", []))
    uses                = { for k in ["tables", "buckets", "topics", "buses"] : k => lookup(lookup(l, "uses", {}), k, []) }
  }]
  idempotency_table = one([for t in lookup(local.topology, "tables", []) : t.name if lookup(t, "purpose", null) == "idempotency"])
  consumers = [for c in lookup(local.topology, "consumers", []) : {
    name  = c.name
    queue = c.queue
    uses  = { for k in ["tables", "buckets", "topics", "buses"] : k => lookup(lookup(c, "uses", {}), k, []) }
  }]

  # ARNs are computed from names so that queues, topics and rules can grant
  # each other access without a dependency cycle.
  rule_arn = merge(
    { for r in local.rules : r.name => r.bus == "default"
      ? "arn:${local.partition}:events:${local.region}:${local.account}:rule/${local.prefix}-${r.name}"
    : "arn:${local.partition}:events:${local.region}:${local.account}:rule/${local.prefix}-${r.bus}/${local.prefix}-${r.name}" },
    { for s in local.schedules : s.name => "arn:${local.partition}:events:${local.region}:${local.account}:rule/${local.prefix}-${s.name}" },
  )
  topic_arn         = { for t in local.topics : t.name => "arn:${local.partition}:sns:${local.region}:${local.account}:${local.prefix}-${t.name}" }
  daily_summary_arn = "arn:${local.partition}:events:${local.region}:${local.account}:rule/${local.prefix}-info-daily-summary"

  # Who may send to each queue: rule targets and rule dead-letter queues,
  # schedules, and topic subscriptions.
  sender_list = concat(
    flatten([for r in local.rules : [for t in r.targets : { queue = t.queue, service = "events.amazonaws.com", source_arn = local.rule_arn[r.name] } if t.queue != null]]),
    flatten([for r in local.rules : [for t in r.targets : { queue = t.deadLetterQueue, service = "events.amazonaws.com", source_arn = local.rule_arn[r.name] } if t.deadLetterQueue != null]]),
    [for s in local.schedules : { queue = s.queue, service = "events.amazonaws.com", source_arn = local.rule_arn[s.name] }],
    flatten([for t in local.topics : [for s in t.subscriptions : { queue = s.queue, service = "sns.amazonaws.com", source_arn = local.topic_arn[t.name] }]]),
  )
  senders = { for q in distinct([for s in local.sender_list : s.queue]) : q => distinct([
    for s in local.sender_list : { service = s.service, source_arn = s.source_arn } if s.queue == q
  ]) }

  publishers = merge(
    { for t in local.topics : t.name => distinct(flatten([for r in local.rules : [for x in r.targets : local.rule_arn[r.name] if x.topic == t.name]])) },
    local.alarm_topic == null ? {} : { (local.alarm_topic) = [local.daily_summary_arn] },
  )

  bus_arn = { for b in local.buses : b.name => "arn:${local.partition}:events:${local.region}:${local.account}:event-bus/${local.prefix}-${b.name}" }

  # What the Lambda mains read (consumers/cmd/lambda-*/main.go; checked by
  # terraform/checks_test.go and tests/topology.tftest.hcl): the function's
  # bus and results table, and the failure queue it dead-letters permanent
  # failures to, so that Lambda does not retry them.
  # A lambda-sqs function (a queue trigger) gets its routes with their
  # ${kind.name} references resolved, like a consumer's options
  # (consumers/topology/refs.go), and dead-letters to its queue's own
  # dead-letter queue when it has one.
  lambda_environment = { for f in local.lambdas : f.name => merge(
    { EVENTPLANE_ENVIRONMENT = var.environment, EVENTPLANE_DEAD_LETTER_URL = f.queue == null ? module.sqs.queue_urls[local.failure_queue] : lookup(module.sqs.dlq_urls, f.queue, module.sqs.queue_urls[local.failure_queue]) },
    f.bus == null ? {} : { EVENTPLANE_BUS = "${local.prefix}-${f.bus}" },
    f.table == null ? {} : { EVENTPLANE_FILES_TABLE = module.dynamodb.table_names[f.table] },
    f.queue == null ? {} : { EVENTPLANE_ROUTES = templatestring(local.lambda_routes[f.name], local.ref_names) },
    f.queue != null && local.idempotency_table != null && contains(f.uses.tables, coalesce(local.idempotency_table, "-")) ? { EVENTPLANE_IDEMPOTENCY_TABLE = module.dynamodb.table_names[local.idempotency_table] } : {},
  ) }
  lambda_routes = { for f in local.lambdas : f.name => f.routes }
  # The physical names a ${kind.name} reference resolves to (as
  # hack/helm-values.sh resolves consumers'): the ${...} of the topology's
  # options are HCL template syntax, so templatestring resolves them; a
  # reference of another kind fails the plan, as the topology check fails it.
  ref_names = {
    tables  = module.dynamodb.table_names
    buckets = module.s3.bucket_names
    topics  = local.topic_arn
    buses   = { for b in local.buses : b.name => "${local.prefix}-${b.name}" }
    queues  = module.sqs.queue_urls
  }

  # ARNs from a topology entry's "uses", keyed "lambda:<name>" and
  # "consumer:<name>" (a function and a consumer may share a name).
  uses = { for e in concat(
    [for l in local.lambdas : merge(l, { key = "lambda:${l.name}" })],
    [for c in local.consumers : merge(c, { key = "consumer:${c.name}" })],
    ) : e.key => {
    tables  = [for t in e.uses.tables : module.dynamodb.table_arns[t]]
    buckets = [for b in e.uses.buckets : module.s3.bucket_arns[b]]
    topics  = [for t in e.uses.topics : module.sns.topic_arns[t]]
    buses   = [for b in e.uses.buses : local.bus_arn[b]]
  } }
}

module "kms" {
  source = "./modules/kms"

  name_prefix          = local.prefix
  deletion_window_days = var.protect_data ? 30 : 7
  tags                 = local.tags
}

module "sqs" {
  source = "./modules/sqs"

  name_prefix = local.prefix
  queues      = local.queues
  senders     = local.senders
  kms_key_arn = module.kms.key_arn
  tags        = local.tags
}

module "sns" {
  source = "./modules/sns"

  name_prefix  = local.prefix
  topics       = local.topics
  queue_arns   = module.sqs.queue_arns
  publishers   = local.publishers
  alarm_topic  = local.alarm_topic
  alert_emails = var.alert_emails
  kms_key_arn  = module.kms.key_arn
  tags         = local.tags
}

module "dynamodb" {
  source = "./modules/dynamodb"

  name_prefix         = local.prefix
  tables              = local.tables
  billing_mode        = var.dynamodb.billing_mode
  deletion_protection = var.protect_data
  provisioned_capacity = {
    min_read  = var.dynamodb.min_read
    max_read  = var.dynamodb.max_read
    min_write = var.dynamodb.min_write
    max_write = var.dynamodb.max_write
  }
  kms_key_arn = module.kms.key_arn
  tags        = local.tags
}

module "s3" {
  source = "./modules/s3"

  name_prefix   = local.prefix
  buckets       = local.buckets
  force_destroy = !var.protect_data
  kms_key_arn   = module.kms.key_arn
  tags          = local.tags
}

module "lambda" {
  source = "./modules/lambda"

  name_prefix = local.prefix
  functions = [for f in local.lambdas : {
    name                = f.name
    handler             = f.handler
    description         = f.description
    memoryMb            = f.memoryMb
    timeoutSeconds      = f.timeoutSeconds
    reservedConcurrency = f.reservedConcurrency
    environment         = local.lambda_environment[f.name]
    queue_trigger       = f.queue == null ? null : { queue_arn = module.sqs.queue_arns[f.queue], dlq_arn = lookup(module.sqs.dlq_arns, f.queue, null), batch_size = f.batchSize }
  }]
  artifacts_dir = coalesce(var.lambda_artifacts_dir, "${path.module}/../build/lambda")
  architecture  = var.lambda_architecture
  permissions = { for f in local.lambdas : f.name => concat(
    length(local.uses["lambda:${f.name}"].tables) == 0 ? [] : [{
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem"]
      resources = local.uses["lambda:${f.name}"].tables
    }],
    length(local.uses["lambda:${f.name}"].buckets) == 0 ? [] : [{
      actions   = ["s3:GetObject"]
      resources = [for b in local.uses["lambda:${f.name}"].buckets : "${b}/*"]
    }],
    length(local.uses["lambda:${f.name}"].buses) == 0 ? [] : [{
      actions   = ["events:PutEvents"]
      resources = local.uses["lambda:${f.name}"].buses
    }],
    length(local.uses["lambda:${f.name}"].topics) == 0 ? [] : [{
      actions   = ["sns:Publish"]
      resources = local.uses["lambda:${f.name}"].topics
    }],
  ) }
  # enabled is known at plan time; the queue's ARN only after apply.
  failure_destination = { enabled = true, queue_arn = module.sqs.queue_arns[local.failure_queue] }
  log_retention_days  = var.log_retention_days
  kms_key_arn         = module.kms.key_arn
  tags                = local.tags
}

module "eventbridge" {
  source = "./modules/eventbridge"

  name_prefix = local.prefix
  buses       = local.buses
  rules       = local.rules
  schedules   = local.schedules
  queue_arns  = module.sqs.queue_arns
  topic_arns  = module.sns.topic_arns
  lambda_arns = module.lambda.function_arns
  tags        = local.tags
}

module "apigateway" {
  source = "./modules/apigateway"

  name_prefix         = local.prefix
  function_name       = module.lambda.function_names[local.ingest_lambda]
  function_invoke_arn = module.lambda.invoke_arns[local.ingest_lambda]
  environment         = var.environment
  authorization       = var.api.authorization
  jwt_scopes          = var.api.jwt_scopes
  jwt_issuer          = var.api.jwt_issuer
  jwt_audience        = var.api.jwt_audience
  throttle            = { rate_limit = var.api.rate_limit, burst_limit = var.api.burst_limit }
  log_retention_days  = var.log_retention_days
  kms_key_arn         = module.kms.key_arn
  tags                = local.tags
}

module "monitoring" {
  source = "./modules/monitoring"

  name_prefix            = local.prefix
  alarm_topic_arn        = module.sns.alarm_topic_arn
  queues                 = { for q in local.queues : q.name => module.sqs.queue_names[q.name] if q.deadLetter }
  dead_letter_queues     = merge(module.sqs.dlq_names, { (local.failure_queue) = module.sqs.queue_names[local.failure_queue] })
  functions              = { for f in local.lambdas : f.name => { name = module.lambda.function_names[f.name], timeout_seconds = f.timeoutSeconds } }
  tables                 = module.dynamodb.table_names
  rules                  = { for r in local.rules : r.name => { name = "${local.prefix}-${r.name}", bus = r.bus == "default" ? "default" : module.eventbridge.bus_names[r.bus] } }
  thresholds             = var.alarm_thresholds
  kms_key_arn            = module.kms.key_arn
  manage_xray_encryption = var.manage_xray_encryption
  tags                   = local.tags
}

module "eks" {
  source = "./modules/eks"
  count  = var.eks.enabled ? 1 : 0

  name_prefix         = local.prefix
  kubernetes_version  = var.eks.kubernetes_version
  vpc_cidr            = var.eks.vpc_cidr
  single_nat_gateway  = var.eks.single_nat_gateway
  public_access_cidrs = var.eks.public_access_cidrs
  node_group = {
    instance_types = var.eks.instance_types
    min_size       = var.eks.min_size
    max_size       = var.eks.max_size
    desired_size   = var.eks.desired_size
  }
  keda = { version = var.eks.keda_version }
  # The Helm release puts the operator and the consumers in one namespace.
  operator = { namespace = var.eks.consumer_namespace, service_account = "eventplane-operator" }
  consumers = { for c in local.consumers : c.name => {
    namespace       = var.eks.consumer_namespace
    service_account = c.name
    queue_arn       = module.sqs.queue_arns[c.queue]
    dlq_arn         = module.sqs.dlq_arns[c.queue]
    table_arns      = local.uses["consumer:${c.name}"].tables
    bucket_arns     = local.uses["consumer:${c.name}"].buckets
    topic_arns      = local.uses["consumer:${c.name}"].topics
    bus_arns        = local.uses["consumer:${c.name}"].buses
  } }
  log_retention_days = var.log_retention_days
  kms_key_arn        = module.kms.key_arn
  tags               = local.tags
}

module "rds" {
  source = "./modules/rds"
  count  = var.rds.enabled && var.eks.enabled ? 1 : 0

  name_prefix            = local.prefix
  vpc_id                 = module.eks[0].vpc_id
  subnet_ids             = module.eks[0].private_subnet_ids
  client_security_groups = { eks-nodes = module.eks[0].node_security_group_id }
  instance_class         = var.rds.instance_class
  multi_az               = var.rds.multi_az
  backup_retention_days  = var.rds.backup_retention_days
  deletion_protection    = var.protect_data
  kms_key_arn            = module.kms.key_arn
  tags                   = local.tags
}
