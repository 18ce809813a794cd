locals {
  tables      = { for t in var.tables : t.name => t }
  provisioned = var.billing_mode == "PROVISIONED"
  cap         = var.provisioned_capacity

  # Every key attribute of the table and of its indexes, declared once: a
  # name may key the table and an index (a range key shared with a GSI), and
  # DynamoDB takes each attribute definition once. Types are grouped per
  # name; the variable's validation rejects a name with two types.
  key_types = { for name, t in local.tables : name => {
    for a in concat(
      [t.hashKey],
      t.rangeKey == null ? [] : [t.rangeKey],
      [for g in t.globalSecondaryIndexes : g.hashKey],
      [for g in t.globalSecondaryIndexes : g.rangeKey if g.rangeKey != null],
    ) : a.name => a.type...
  } }
  attributes = { for name, keys in local.key_types : name => { for k, types in keys : k => types[0] } }

  scaled = local.provisioned ? merge([for name, t in local.tables : {
    for dim in ["read", "write"] : "${name}/${dim}" => { table = name, dim = dim }
  }]...) : {}
}

resource "aws_dynamodb_table" "this" {
  for_each = local.tables

  name                        = "${var.name_prefix}-${each.key}"
  billing_mode                = var.billing_mode
  read_capacity               = local.provisioned ? local.cap.min_read : null
  write_capacity              = local.provisioned ? local.cap.min_write : null
  hash_key                    = each.value.hashKey.name
  range_key                   = each.value.rangeKey == null ? null : each.value.rangeKey.name
  deletion_protection_enabled = var.deletion_protection

  dynamic "attribute" {
    for_each = local.attributes[each.key]
    content {
      name = attribute.key
      type = attribute.value
    }
  }

  dynamic "global_secondary_index" {
    for_each = each.value.globalSecondaryIndexes
    content {
      name            = global_secondary_index.value.name
      projection_type = global_secondary_index.value.projectionType
      read_capacity   = local.provisioned ? local.cap.min_read : null
      write_capacity  = local.provisioned ? local.cap.min_write : null

      # aws 6.47 deprecates the index's hash_key/range_key for key_schema.
      key_schema {
        attribute_name = global_secondary_index.value.hashKey.name
        key_type       = "HASH"
      }
      dynamic "key_schema" {
        for_each = global_secondary_index.value.rangeKey == null ? [] : [global_secondary_index.value.rangeKey]
        content {
          attribute_name = key_schema.value.name
          key_type       = "RANGE"
        }
      }
    }
  }

  dynamic "ttl" {
    for_each = each.value.ttlAttribute == null ? [] : [each.value.ttlAttribute]
    content {
      attribute_name = ttl.value
      enabled        = true
    }
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  lifecycle {
    ignore_changes = [read_capacity, write_capacity] # owned by autoscaling
  }

  tags = merge(var.tags, { "eventplane:table" = each.key })
}

resource "aws_appautoscaling_target" "this" {
  for_each = local.scaled

  service_namespace  = "dynamodb"
  resource_id        = "table/${aws_dynamodb_table.this[each.value.table].name}"
  scalable_dimension = "dynamodb:table:${each.value.dim == "read" ? "ReadCapacityUnits" : "WriteCapacityUnits"}"
  min_capacity       = each.value.dim == "read" ? local.cap.min_read : local.cap.min_write
  max_capacity       = each.value.dim == "read" ? local.cap.max_read : local.cap.max_write
}

resource "aws_appautoscaling_policy" "this" {
  for_each = local.scaled

  name               = "${aws_dynamodb_table.this[each.value.table].name}-${each.value.dim}"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.this[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.this[each.key].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value = local.cap.target_utilization
    predefined_metric_specification {
      predefined_metric_type = each.value.dim == "read" ? "DynamoDBReadCapacityUtilization" : "DynamoDBWriteCapacityUtilization"
    }
  }
}
