"""infra/clients.yaml (S3 + CloudFront for the widget and SDK bundles) and its upload script.

cfn-lint runs on every template in infra/ (tests/test_infra.py); these check what it cannot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra import deploy_clients
from infra.provision import load_template

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    return load_template(ROOT / "infra" / "clients.yaml")["Resources"]


def test_the_bucket_is_private_and_read_only_by_its_distribution(resources: dict[str, Any]) -> None:
    bucket = resources["ClientsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    allow, deny = resources["ClientsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"} and allow["Action"] == "s3:GetObject"
    assert "ClientsDistribution" in allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_cloudfront_serves_https_only_compressed_through_the_origin_access_control(resources: dict[str, Any]) -> None:
    config = resources["ClientsDistribution"]["Properties"]["DistributionConfig"]
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https" and behavior["Compress"] is True
    assert behavior["AllowedMethods"] == ["GET", "HEAD", "OPTIONS"]
    origin = config["Origins"][0]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["ClientsOriginAccessControl", "Id"]}
    oac = resources["ClientsOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (oac["SigningBehavior"], oac["SigningProtocol"]) == ("always", "sigv4")
    headers = resources["ClientsResponseHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    assert headers["CorsConfig"]["AccessControlAllowCredentials"] is False
    assert headers["SecurityHeadersConfig"]["ContentTypeOptions"] == {"Override": True}


def test_bundles_upload_under_exact_and_major_versions_with_their_cache_rules(aws: Any, tmp_path: Path) -> None:
    for folder, names in (("widget/dist", ["widget.js", "widget.js.map"]),
                          ("js/dist", ["sdk.js", "sdk.min.js", "sdk.min.js.map"])):
        (tmp_path / folder).mkdir(parents=True)
        for name in names:
            (tmp_path / folder / name).write_text(f"// {name}")
    uploads = deploy_clients.bundle_uploads(tmp_path, release="1.4.2")
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="clients-test")
    keys = deploy_clients.upload(s3, "clients-test", uploads)
    assert {"widget/v1.4.2/widget.js", "widget/v1/widget.js", "sdk/v1.4.2/sdk.min.js", "sdk/v1/sdk.js"} <= set(keys)
    exact = s3.head_object(Bucket="clients-test", Key="widget/v1.4.2/widget.js")
    assert exact["ContentType"] == "text/javascript; charset=utf-8"
    assert exact["CacheControl"] == deploy_clients.IMMUTABLE
    alias = s3.head_object(Bucket="clients-test", Key="widget/v1/widget.js")
    assert alias["CacheControl"] == deploy_clients.MUTABLE
    assert s3.head_object(Bucket="clients-test", Key="sdk/v1/sdk.min.js.map")["ContentType"] == "application/json"
    snippet = deploy_clients.embed_snippet("https://d1.cloudfront.net", "wss://x/prod", release="1.4.2")
    assert 'src="https://d1.cloudfront.net/widget/v1/widget.js"' in snippet and 'data-ws="wss://x/prod"' in snippet


def test_a_missing_bundle_stops_the_upload_with_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="make install"):
        deploy_clients.bundle_uploads(tmp_path, release="1.0.0")


def test_the_uploaded_version_is_the_sdk_package_version() -> None:
    import json

    assert deploy_clients.version() == json.loads((ROOT / "clients" / "js" / "package.json").read_text())["version"]
