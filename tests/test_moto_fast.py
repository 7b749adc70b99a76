"""local/moto_fast.py answers as moto does: a cancelled transaction changes nothing (rolled back item by
item), a committed one everything; queries of the table and of an index return the same pages."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.moto_fast import installed


def _scenario(client: Any) -> tuple[list[dict[str, Any]], str]:
    client.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                   {"AttributeName": "sk", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                              {"AttributeName": "sk", "AttributeType": "S"},
                                              {"AttributeName": "g", "AttributeType": "S"},
                                              {"AttributeName": "h", "AttributeType": "S"}],
                        GlobalSecondaryIndexes=[{"IndexName": "gsi", "Projection": {"ProjectionType": "ALL"},
                                                 "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                                                               {"AttributeName": "h", "KeyType": "RANGE"}]}])
    client.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"N": "1"}})
    client.put_item(TableName="t", Item={"pk": {"S": "b"}, "sk": {"S": "1"}, "v": {"N": "1"}})
    cancelled = ""
    try:  # updates a, creates c, then finds b there: cancelled
        client.transact_write_items(TransactItems=[
            {"Update": {"TableName": "t", "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}}, "UpdateExpression": "SET v = :2",
                        "ExpressionAttributeValues": {":2": {"N": "2"}}}},
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "c"}, "sk": {"S": "1"}}}},
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "b"}, "sk": {"S": "1"}, "v": {"N": "9"}},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
        ])
    except client.exceptions.TransactionCanceledException as exc:
        cancelled = str([r["Code"] for r in exc.response["CancellationReasons"]])
    client.transact_write_items(TransactItems=[  # then one that commits
        {"Delete": {"TableName": "t", "Key": {"pk": {"S": "b"}, "sk": {"S": "1"}}}},
        {"Put": {"TableName": "t", "Item": {"pk": {"S": "d"}, "sk": {"S": "1"}}, "ConditionExpression":
                 "attribute_not_exists(pk)"}},
    ])
    items = sorted(client.scan(TableName="t")["Items"], key=lambda i: i["pk"]["S"])
    for n in range(30):  # queries: one partition, and an index over many, read in pages
        client.put_item(TableName="t", Item={"pk": {"S": f"p{n % 3}"}, "sk": {"S": f"{n:03d}"},
                                             "g": {"S": "all"}, "h": {"S": f"{n % 7}"}})
    pages = []
    for request in ({"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "p1"}}},
                    {"KeyConditionExpression": "pk = :p", "ScanIndexForward": False,
                     "ExpressionAttributeValues": {":p": {"S": "p2"}}},
                    {"IndexName": "gsi", "KeyConditionExpression": "g = :g", "ExpressionAttributeValues":
                     {":g": {"S": "all"}}, "ScanIndexForward": False}):
        start: dict[str, Any] = {}
        while True:
            page = client.query(TableName="t", Limit=4, **request, **start)
            pages.append(page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
    return [*items, {"pages": pages}], cancelled


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    return lambda: boto3.client("dynamodb", region_name="us-east-1")


def test_moto_fast_answers_as_moto_does(dynamodb: Any) -> None:
    with mock_aws():
        expected = _scenario(dynamodb())
    with mock_aws(), installed():
        assert _scenario(dynamodb()) == expected
    assert expected[1] == "['None', 'None', 'ConditionalCheckFailed']"
    assert [(i["pk"]["S"], i.get("v", {}).get("N")) for i in expected[0][:-1]] == [("a", "1"), ("d", None)]
    assert sum(len(p) for p in expected[0][-1]["pages"]) == 10 + 10 + 30
