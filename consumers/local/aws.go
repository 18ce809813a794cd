package local

import (
	"context"
	"encoding/json"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/eventplane/eventplane/consumers/local/awsapi"
)

// AWS is the platform as the AWS API servers (awsapi) see it: its queues
// and dead-letter queues, buses and rules, and topics.
func (p *Platform) AWS() awsapi.Platform { return awsPlatform{p} }

type awsPlatform struct{ p *Platform }

func (a awsPlatform) Queues() []awsapi.Queue {
	var out []awsapi.Queue
	for _, q := range a.p.top.Queues {
		x := awsapi.Queue{Queue: a.p.queues[q.Name], Retention: time.Duration(q.RetentionSeconds) * time.Second}
		if d := a.p.dlqs[q.Name]; d != nil {
			x.DeadLetterARN, x.MaxReceiveCount = d.ARN(), q.MaxReceiveCount
			out = append(out, awsapi.Queue{Queue: d, Retention: 14 * 24 * time.Hour})
		}
		out = append(out, x)
	}
	return out
}

func (a awsPlatform) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	return a.p.Bus.PutEvents(ctx, in, opts...)
}

func (a awsPlatform) Rules() []awsapi.Rule {
	var out []awsapi.Rule
	for _, r := range a.p.top.Rules {
		x := awsapi.Rule{Name: r.Name, Bus: a.p.busName(r.Bus), Description: r.Description, Pattern: json.RawMessage(r.Pattern)}
		for _, t := range r.Targets {
			switch {
			case t.Queue != "":
				if q := a.p.queues[t.Queue]; q != nil {
					x.Targets = append(x.Targets, q.ARN())
				}
			case t.Topic != "":
				x.Targets = append(x.Targets, a.p.Names.Topics[t.Topic])
			case t.Lambda != "":
				x.Targets = append(x.Targets, "arn:aws:lambda:"+region+":"+account+":function:"+t.Lambda)
			}
		}
		out = append(out, x)
	}
	return out
}

func (a awsPlatform) Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error) {
	return a.p.Topics.Publish(ctx, in, opts...)
}

func (a awsPlatform) DynamoDB() awsapi.Tables { return a.p.Tables }

func (a awsPlatform) TopicARNs() []string {
	var out []string
	for _, t := range a.p.top.Topics {
		out = append(out, a.p.Names.Topics[t.Name])
	}
	return out
}
