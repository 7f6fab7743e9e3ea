"""A real S3-compatible server on loopback (moto's, in a thread of the test process) for the evidence storage."""

import uuid
from dataclasses import dataclass

import boto3
from moto.server import ThreadedMotoServer

# moto takes any credentials; boto3 (through django-storages) reads these from the environment, as in production.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "hjp-test", "AWS_SECRET_ACCESS_KEY": "hjp-test-secret"}
REGION = "eu-west-2"


def start_server() -> tuple[ThreadedMotoServer, str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


@dataclass
class Bucket:
    name: str
    endpoint_url: str

    @property
    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def keys(self) -> list[str]:
        return [entry["Key"] for entry in self.client.list_objects_v2(Bucket=self.name).get("Contents", [])]

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


def new_bucket(endpoint_url: str) -> Bucket:
    bucket = Bucket(name=f"hjp-evidence-{uuid.uuid4().hex[:12]}", endpoint_url=endpoint_url)
    bucket.client.create_bucket(Bucket=bucket.name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return bucket
