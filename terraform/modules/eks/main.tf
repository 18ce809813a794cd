data "aws_partition" "current" {}
data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  partition  = data.aws_partition.current.partition
  create_vpc = length(var.subnet_ids) == 0
  azs        = slice(data.aws_availability_zones.available.names, 0, var.az_count)
  cluster    = var.name_prefix
  nat_count  = local.create_vpc ? (var.single_nat_gateway ? 1 : var.az_count) : 0
  subnet_ids = local.create_vpc ? aws_subnet.private[*].id : var.subnet_ids
  vpc_id     = local.create_vpc ? aws_vpc.this[0].id : var.vpc_id
}

# --- network -------------------------------------------------------------------

resource "aws_vpc" "this" {
  count = local.create_vpc ? 1 : 0

  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = merge(var.tags, { Name = var.name_prefix })
}

# No rules: nothing uses the default security group.
resource "aws_default_security_group" "this" {
  count = local.create_vpc ? 1 : 0

  vpc_id = aws_vpc.this[0].id
  tags   = var.tags
}

resource "aws_subnet" "private" {
  count = local.create_vpc ? var.az_count : 0

  vpc_id            = aws_vpc.this[0].id
  availability_zone = local.azs[count.index]
  cidr_block        = cidrsubnet(var.vpc_cidr, 4, count.index)
  tags = merge(var.tags, {
    Name                                     = "${var.name_prefix}-private-${local.azs[count.index]}"
    "kubernetes.io/role/internal-elb"        = "1"
    "kubernetes.io/cluster/${local.cluster}" = "shared"
  })
}

resource "aws_subnet" "public" {
  count = local.create_vpc ? var.az_count : 0

  vpc_id            = aws_vpc.this[0].id
  availability_zone = local.azs[count.index]
  cidr_block        = cidrsubnet(var.vpc_cidr, 8, 200 + count.index)
  tags              = merge(var.tags, { Name = "${var.name_prefix}-public-${local.azs[count.index]}", "kubernetes.io/role/elb" = "1" })
}

resource "aws_internet_gateway" "this" {
  count = local.create_vpc ? 1 : 0

  vpc_id = aws_vpc.this[0].id
  tags   = var.tags
}

resource "aws_eip" "nat" {
  count = local.nat_count

  domain = "vpc"
  tags   = var.tags
}

resource "aws_nat_gateway" "this" {
  count = local.nat_count

  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.public[count.index].id
  tags          = var.tags
  depends_on    = [aws_internet_gateway.this]
}

resource "aws_route_table" "public" {
  count = local.create_vpc ? 1 : 0

  vpc_id = aws_vpc.this[0].id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this[0].id
  }
  tags = var.tags
}

resource "aws_route_table_association" "public" {
  count = local.create_vpc ? var.az_count : 0

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public[0].id
}

resource "aws_route_table" "private" {
  count = local.create_vpc ? var.az_count : 0

  vpc_id = aws_vpc.this[0].id
  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.this[var.single_nat_gateway ? 0 : count.index].id
  }
  tags = var.tags
}

resource "aws_route_table_association" "private" {
  count = local.create_vpc ? var.az_count : 0

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[count.index].id
}

# Queue, table and bucket traffic stays on the AWS network.
resource "aws_vpc_endpoint" "gateway" {
  for_each = local.create_vpc ? toset(["s3", "dynamodb"]) : toset([])

  vpc_id            = aws_vpc.this[0].id
  service_name      = "com.amazonaws.${data.aws_region.current.region}.${each.key}"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = aws_route_table.private[*].id
  tags              = var.tags
}

data "aws_region" "current" {}

resource "aws_cloudwatch_log_group" "flow" {
  count = local.create_vpc ? 1 : 0

  name              = "/aws/vpc/${var.name_prefix}/flow-logs"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "flow_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "flow" {
  count = local.create_vpc ? 1 : 0

  name               = "${var.name_prefix}-vpc-flow-logs"
  assume_role_policy = data.aws_iam_policy_document.flow_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "flow" {
  count = local.create_vpc ? 1 : 0

  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.flow[0].arn}:*"]
  }
}

resource "aws_iam_role_policy" "flow" {
  count = local.create_vpc ? 1 : 0

  name   = "flow-logs"
  role   = aws_iam_role.flow[0].id
  policy = data.aws_iam_policy_document.flow[0].json
}

resource "aws_flow_log" "this" {
  count = local.create_vpc ? 1 : 0

  vpc_id          = aws_vpc.this[0].id
  traffic_type    = "ALL"
  log_destination = aws_cloudwatch_log_group.flow[0].arn
  iam_role_arn    = aws_iam_role.flow[0].arn
  tags            = var.tags
}

# --- cluster -------------------------------------------------------------------

data "aws_iam_policy_document" "cluster_assume" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "Service"
      identifiers = ["eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cluster" {
  name               = "${var.name_prefix}-eks-cluster"
  assume_role_policy = data.aws_iam_policy_document.cluster_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "cluster" {
  role       = aws_iam_role.cluster.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonEKSClusterPolicy"
}

resource "aws_cloudwatch_log_group" "cluster" {
  name              = "/aws/eks/${local.cluster}/cluster"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_eks_cluster" "this" {
  name                      = local.cluster
  version                   = var.kubernetes_version
  role_arn                  = aws_iam_role.cluster.arn
  enabled_cluster_log_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]

  vpc_config {
    subnet_ids              = local.subnet_ids
    endpoint_private_access = true
    endpoint_public_access  = length(var.public_access_cidrs) > 0
    public_access_cidrs     = length(var.public_access_cidrs) > 0 ? var.public_access_cidrs : null
  }

  encryption_config {
    resources = ["secrets"]
    provider {
      key_arn = var.kms_key_arn
    }
  }

  access_config {
    authentication_mode = "API"
  }

  tags       = var.tags
  depends_on = [aws_iam_role_policy_attachment.cluster, aws_cloudwatch_log_group.cluster]
}

resource "aws_eks_addon" "pod_identity" {
  cluster_name = aws_eks_cluster.this.name
  addon_name   = "eks-pod-identity-agent"
  tags         = var.tags
}

# --- nodes ---------------------------------------------------------------------

data "aws_iam_policy_document" "node_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "node" {
  name               = "${var.name_prefix}-eks-node"
  assume_role_policy = data.aws_iam_policy_document.node_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each = toset(["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"])

  role       = aws_iam_role.node.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.key}"
}

resource "aws_launch_template" "node" {
  name_prefix = "${var.name_prefix}-node-"

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
    # 1: a pod (one network hop further) cannot reach the node's instance
    # credentials; pods get their own through EKS Pod Identity / IRSA.
    http_put_response_hop_limit = 1
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = var.node_group.disk_size_gb
      volume_type           = "gp3"
      encrypted             = true
      kms_key_id            = var.kms_key_arn
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = var.tags
  }

  tags = var.tags
}

resource "aws_eks_node_group" "this" {
  cluster_name    = aws_eks_cluster.this.name
  node_group_name = "${var.name_prefix}-default"
  node_role_arn   = aws_iam_role.node.arn
  subnet_ids      = local.subnet_ids
  instance_types  = var.node_group.instance_types
  ami_type        = var.node_group.ami_type

  scaling_config {
    min_size     = var.node_group.min_size
    max_size     = var.node_group.max_size
    desired_size = var.node_group.desired_size
  }

  launch_template {
    id      = aws_launch_template.node.id
    version = aws_launch_template.node.latest_version
  }

  update_config {
    max_unavailable = 1
  }

  lifecycle {
    ignore_changes = [scaling_config[0].desired_size] # owned by the cluster autoscaler
  }

  tags       = var.tags
  depends_on = [aws_iam_role_policy_attachment.node]
}

# --- workload identities (EKS Pod Identity) --------------------------------------

data "aws_iam_policy_document" "pod_assume" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "Service"
      identifiers = ["pods.eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "consumer" {
  for_each = var.consumers

  name               = "${var.name_prefix}-consumer-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.pod_assume.json
  tags               = merge(var.tags, { "eventplane:consumer" = each.key })
}

data "aws_iam_policy_document" "consumer" {
  for_each = var.consumers

  statement {
    sid       = "ConsumeOwnQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
    resources = [each.value.queue_arn]
  }
  statement {
    sid       = "DeadLetterOwnMessages"
    actions   = ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"]
    resources = [each.value.dlq_arn]
  }
  statement {
    sid       = "UseThePlatformKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
  dynamic "statement" {
    for_each = length(each.value.table_arns) > 0 ? [1] : []
    content {
      sid = "OwnTables"
      actions = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query",
      "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable"]
      resources = concat(each.value.table_arns, [for t in each.value.table_arns : "${t}/index/*"])
    }
  }
  dynamic "statement" {
    for_each = length(each.value.bucket_arns) > 0 ? [1] : []
    content {
      sid       = "OwnBucketObjects"
      actions   = ["s3:GetObject", "s3:PutObject"]
      resources = [for b in each.value.bucket_arns : "${b}/*"]
    }
  }
  dynamic "statement" {
    for_each = length(each.value.bucket_arns) > 0 ? [1] : []
    content {
      sid       = "ListOwnBuckets"
      actions   = ["s3:ListBucket"]
      resources = each.value.bucket_arns
    }
  }
  dynamic "statement" {
    for_each = length(each.value.topic_arns) > 0 ? [1] : []
    content {
      sid       = "PublishToOwnTopics"
      actions   = ["sns:Publish"]
      resources = each.value.topic_arns
    }
  }
  dynamic "statement" {
    for_each = length(each.value.bus_arns) > 0 ? [1] : []
    content {
      sid       = "PutEventsOnOwnBuses"
      actions   = ["events:PutEvents"]
      resources = each.value.bus_arns
    }
  }
}

resource "aws_iam_role_policy" "consumer" {
  for_each = var.consumers

  name   = "consumer"
  role   = aws_iam_role.consumer[each.key].id
  policy = data.aws_iam_policy_document.consumer[each.key].json
}

resource "aws_eks_pod_identity_association" "consumer" {
  for_each = var.consumers

  cluster_name    = aws_eks_cluster.this.name
  namespace       = each.value.namespace
  service_account = each.value.service_account
  role_arn        = aws_iam_role.consumer[each.key].arn
  tags            = var.tags
  depends_on      = [aws_eks_addon.pod_identity]
}

# --- eventplane operator ----------------------------------------------------------

resource "aws_iam_role" "operator" {
  name               = "${var.name_prefix}-eventplane-operator"
  assume_role_policy = data.aws_iam_policy_document.pod_assume.json
  tags               = var.tags
}

# The operator reads queue and DLQ depth into EventConsumer status and, when
# asked, moves DLQ messages back to their queue. (--peek-oldest would also
# need ReceiveMessage and ChangeMessageVisibility on the queues: not granted.)
data "aws_iam_policy_document" "operator" {
  statement {
    sid       = "ReadDepth"
    actions   = ["sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
    resources = length(var.consumers) > 0 ? flatten([for c in values(var.consumers) : [c.queue_arn, c.dlq_arn]]) : ["arn:${local.partition}:sqs:${data.aws_region.current.region}:000000000000:none"]
  }
  statement {
    sid       = "RedriveFromDLQ"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"]
    resources = length(var.consumers) > 0 ? [for c in values(var.consumers) : c.dlq_arn] : ["arn:${local.partition}:sqs:${data.aws_region.current.region}:000000000000:none"]
  }
  statement {
    sid       = "RedriveToQueue"
    actions   = ["sqs:SendMessage"]
    resources = length(var.consumers) > 0 ? [for c in values(var.consumers) : c.queue_arn] : ["arn:${local.partition}:sqs:${data.aws_region.current.region}:000000000000:none"]
  }
  statement {
    sid       = "UseThePlatformKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "operator" {
  name   = "operator"
  role   = aws_iam_role.operator.id
  policy = data.aws_iam_policy_document.operator.json
}

resource "aws_eks_pod_identity_association" "operator" {
  cluster_name    = aws_eks_cluster.this.name
  namespace       = var.operator.namespace
  service_account = var.operator.service_account
  role_arn        = aws_iam_role.operator.arn
  tags            = var.tags
  depends_on      = [aws_eks_addon.pod_identity]
}

# --- KEDA ------------------------------------------------------------------------

resource "aws_iam_role" "keda" {
  name               = "${var.name_prefix}-keda-operator"
  assume_role_policy = data.aws_iam_policy_document.pod_assume.json
  tags               = var.tags
}

# KEDA's aws-sqs-queue scaler reads queue depth; nothing else.
data "aws_iam_policy_document" "keda" {
  statement {
    sid       = "ReadQueueDepth"
    actions   = ["sqs:GetQueueAttributes"]
    resources = length(var.consumers) > 0 ? [for c in values(var.consumers) : c.queue_arn] : ["arn:${local.partition}:sqs:${data.aws_region.current.region}:000000000000:none"]
  }
}

resource "aws_iam_role_policy" "keda" {
  name   = "read-queue-depth"
  role   = aws_iam_role.keda.id
  policy = data.aws_iam_policy_document.keda.json
}

resource "aws_eks_pod_identity_association" "keda" {
  cluster_name    = aws_eks_cluster.this.name
  namespace       = var.keda.namespace
  service_account = "keda-operator"
  role_arn        = aws_iam_role.keda.arn
  tags            = var.tags
  depends_on      = [aws_eks_addon.pod_identity]
}

resource "helm_release" "keda" {
  name             = "keda"
  repository       = "https://kedacore.github.io/charts"
  chart            = "keda"
  version          = var.keda.version
  namespace        = var.keda.namespace
  create_namespace = true
  wait             = true

  set {
    name  = "serviceAccount.operator.name"
    value = "keda-operator"
  }
  set {
    name  = "podIdentity.aws.irsa.enabled"
    value = "false"
  }

  depends_on = [aws_eks_node_group.this, aws_eks_pod_identity_association.keda]
}
