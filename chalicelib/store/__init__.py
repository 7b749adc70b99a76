"""DynamoDB single-table persistence: key grammar, item codec and one store class per entity."""
