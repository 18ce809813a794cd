"""boto3 against `eventplane dev` (TestBoto3AgainstDev): configured only by
the variables the banner prints (AWS_ENDPOINT_URL, dummy credentials,
AWS_DEFAULT_REGION). Prints what it saw as one JSON object."""
import json

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"
out = {}

# Flow 1: an upload under incoming/ of the uploads bucket (the files Lambda).
s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
body = b"orderId,customerId,total\nboto-1,c-1,9.5\n"
put = s3.put_object(Bucket="local-uploads", Key="incoming/boto3.csv", Body=body)
out["ETag"] = put["ETag"]
out["Body"] = s3.get_object(Bucket="local-uploads", Key="incoming/boto3.csv")["Body"].read().decode()
listed = s3.list_objects_v2(Bucket="local-uploads", Prefix="incoming/")
out["Keys"] = [o["Key"] for o in listed.get("Contents", [])]
try:
    s3.get_object(Bucket="local-uploads", Key="incoming/missing.csv")
    out["MissingCode"] = ""
except ClientError as e:
    out["MissingCode"] = e.response["Error"]["Code"]

# Flow 3: SNS topic -> raw subscription -> SQS queue.
sns = boto3.client("sns")
sqs = boto3.client("sqs")
arn = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":local-order-events"))
msg = json.dumps({"detail": {"total": 7, "source": "boto3"}}, separators=(",", ":"))
out["MessageID"] = sns.publish(TopicArn=arn, Message=msg)["MessageId"]
url = sqs.get_queue_url(QueueName="order-analytics")["QueueUrl"]
got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10, MaxNumberOfMessages=1).get("Messages", [])
out["Received"] = got[0]["Body"] if got else ""
for m in got:
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
out["Left"] = attrs["Attributes"]["ApproximateNumberOfMessages"]
print(json.dumps(out))
