# A key attribute shared by a table and its index (the orders table's range
# key sk is also by-customer's) is declared once: DynamoDB takes each
# attribute definition once, and a duplicate key in the for expression was
# Terraform's "Duplicate object key".

provider "aws" {
  region = "eu-west-1"
}

variables {
  name_prefix = "t"
  kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/test"
  tables = [
    {
      name     = "orders"
      hashKey  = { name = "pk", type = "S" }
      rangeKey = { name = "sk", type = "S" }
      globalSecondaryIndexes = [
        { name = "by-customer", hashKey = { name = "customerId", type = "S" }, rangeKey = { name = "sk", type = "S" } },
        { name = "by-state", hashKey = { name = "state", type = "S" }, projectionType = "KEYS_ONLY" },
      ]
    },
    { name = "plain", hashKey = { name = "pk", type = "S" } },
  ]
}

run "shared_range_key_declared_once" {
  command = plan

  assert {
    condition     = { for a in aws_dynamodb_table.this["orders"].attribute : a.name => a.type } == { pk = "S", sk = "S", customerId = "S", state = "S" }
    error_message = "orders declares pk, sk, customerId and state once each"
  }
  assert {
    condition     = length(aws_dynamodb_table.this["orders"].attribute) == 4 && length(aws_dynamodb_table.this["plain"].attribute) == 1
    error_message = "no attribute is declared twice"
  }
  assert {
    condition     = [for g in aws_dynamodb_table.this["orders"].global_secondary_index : [for k in g.key_schema : "${k.key_type}:${k.attribute_name}"] if g.name == "by-customer"] == [["HASH:customerId", "RANGE:sk"]]
    error_message = "by-customer is keyed on customerId (HASH) and sk (RANGE)"
  }
}

run "one_name_two_types_is_rejected" {
  command = plan

  variables {
    tables = [{
      name                   = "bad"
      hashKey                = { name = "pk", type = "S" }
      rangeKey               = { name = "sk", type = "S" }
      globalSecondaryIndexes = [{ name = "g", hashKey = { name = "sk", type = "N" } }]
    }]
  }

  expect_failures = [var.tables]
}
