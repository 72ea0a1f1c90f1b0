"""moto's S3 server on loopback, shared by every test that stores on S3 (``s3_endpoint`` in the top
conftest)."""

BUCKET = "openbwv-test"
