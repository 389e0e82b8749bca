package main

// The server's fixed data and its error helpers. Every function returns fresh messages, so a
// handler may change what it got without affecting any other call.

import (
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	v1 "github.com/polysdk/interop/connect_server/gen/orchestratorv1"
)

// errorDomain is the ErrorInfo domain of every error the server returns.
const errorDomain = "orchestrator.polysdk.dev"

// bigInt is 2^53 + 1: the first integer a float64 (a JavaScript number) cannot hold.
const bigInt int64 = 9007199254740993

// fixedTime has nanoseconds, so a client that keeps less precision shows it.
var fixedTime = time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)

func ts(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }

func dur(d time.Duration) *durationpb.Duration { return durationpb.New(d) }

func mustStruct(fields map[string]any) *structpb.Struct {
	value, err := structpb.NewStruct(fields)
	if err != nil {
		panic(err)
	}
	return value
}

func cloneAgent(agent *v1.Agent) *v1.Agent {
	if agent == nil {
		return &v1.Agent{}
	}
	return proto.Clone(agent).(*v1.Agent)
}

func clonePlan(plan *v1.Plan) *v1.Plan {
	if plan == nil {
		return &v1.Plan{}
	}
	return proto.Clone(plan).(*v1.Plan)
}

func cloneMessage(message *v1.Message) *v1.Message {
	if message == nil {
		return &v1.Message{}
	}
	return proto.Clone(message).(*v1.Message)
}

// --- Pagination -----------------------------------------------------------------------------

// paginate returns one page of items: page_size 0 means 20, above 100 means 100, negative is
// invalid_argument. The page token is "offset:N"; the last page has no next_page_token (proto3
// writes nothing for the empty string). An unknown token is invalid_argument.
func paginate[T any](items []T, pageSize int32, pageToken string) ([]T, string, error) {
	if pageSize < 0 {
		return nil, "", invalidArgument("page_size", "page_size must not be negative")
	}
	if pageSize == 0 {
		pageSize = 20
	}
	if pageSize > 100 {
		pageSize = 100
	}
	offset := 0
	if pageToken != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(pageToken, "offset:"))
		if !strings.HasPrefix(pageToken, "offset:") || err != nil || n < 0 || n > len(items) {
			return nil, "", invalidArgument("page_token", "unknown page token")
		}
		offset = n
	}
	end := min(offset+int(pageSize), len(items))
	next := ""
	if end < len(items) {
		next = fmt.Sprintf("offset:%d", end)
	}
	return items[offset:end], next, nil
}

// --- Errors ---------------------------------------------------------------------------------

func withDetail(err *connect.Error, detail proto.Message) *connect.Error {
	value, detailErr := connect.NewErrorDetail(detail)
	if detailErr != nil {
		panic(detailErr)
	}
	err.AddDetail(value)
	return err
}

// withInfo is an error of `code` with one google.rpc.ErrorInfo detail.
func withInfo(code connect.Code, message, reason string, metadata map[string]string) *connect.Error {
	return withDetail(connect.NewError(code, fmt.Errorf("%s", message)), &errdetails.ErrorInfo{
		Reason: reason, Domain: errorDomain, Metadata: metadata,
	})
}

// notFound: not_found, "<kind> <id> not found", ErrorInfo{reason: "<KIND>_NOT_FOUND", metadata: {<kind>_id: id}}.
func notFound(kind, id string) *connect.Error {
	return withInfo(connect.CodeNotFound, fmt.Sprintf("%s %s not found", kind, id),
		strings.ToUpper(kind)+"_NOT_FOUND", map[string]string{kind + "_id": id})
}

// invalidArgument: invalid_argument with a google.rpc.BadRequest naming the field.
func invalidArgument(field, description string) *connect.Error {
	return withDetail(connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("%s", description)), &errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: description}},
	})
}

// preconditionFailed: failed_precondition with a google.rpc.PreconditionFailure.
func preconditionFailed(kind, subject, description string) *connect.Error {
	return withDetail(connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf("%s", description)), &errdetails.PreconditionFailure{
		Violations: []*errdetails.PreconditionFailure_Violation{{Type: kind, Subject: subject, Description: description}},
	})
}

// --- Health ---------------------------------------------------------------------------------

func health() *v1.Health {
	return &v1.Health{
		Status:  v1.HealthStatus_HEALTH_STATUS_DEGRADED,
		Version: "1.4.2",
		Uptime:  dur(3723*time.Second + 500*time.Millisecond + time.Nanosecond),
		Checks: map[string]*v1.HealthCheck{
			"db":    {Status: v1.HealthStatus_HEALTH_STATUS_OK, LatencyMs: bigInt},
			"queue": {Status: v1.HealthStatus_HEALTH_STATUS_DEGRADED, LatencyMs: 250, Detail: "backlog of 12 runs"},
		},
	}
}

// --- Agents ---------------------------------------------------------------------------------

func int32p(v int32) *int32 { return &v }

// agents: agt_1 .. agt_5. agt_1 has every field; agt_2 has max_concurrency 0 (present);
// agt_5 has only the required minimum.
func agents() []*v1.Agent {
	return []*v1.Agent{
		{
			Id:           "agt_1",
			Name:         "planner",
			Description:  "Plans the work",
			Status:       v1.AgentStatus_AGENT_STATUS_IDLE,
			Capabilities: []string{"web.search", "code.run"},
			Labels:       map[string]string{"team": "core", "tier": "gold"},
			Config: mustStruct(map[string]any{
				"model": "m-1", "temperature": 0.5, "tools": []any{"a", "b"},
				"nested": map[string]any{"ok": true, "none": nil},
			}),
			MaxConcurrency:    int32p(4),
			EndpointUrl:       "https://agents.example/planner",
			TotalRuns:         bigInt,
			CreateTime:        ts(fixedTime),
			UpdateTime:        ts(fixedTime.Add(time.Hour + time.Nanosecond)),
			LastHeartbeatTime: ts(fixedTime.Add(90 * time.Second)),
		},
		{
			Id: "agt_2", Name: "coder", Status: v1.AgentStatus_AGENT_STATUS_BUSY,
			Capabilities: []string{"code.run"}, MaxConcurrency: int32p(0), TotalRuns: 7,
			CreateTime: ts(fixedTime.Add(-time.Hour)), UpdateTime: ts(fixedTime.Add(-time.Hour)),
		},
		{
			Id: "agt_3", Name: "reviewer", Status: v1.AgentStatus_AGENT_STATUS_DRAINING,
			CreateTime: ts(fixedTime.Add(-2 * time.Hour)), UpdateTime: ts(fixedTime.Add(-2 * time.Hour)),
		},
		{
			Id: "agt_4", Name: "scraper", Status: v1.AgentStatus_AGENT_STATUS_OFFLINE,
			CreateTime: ts(fixedTime.Add(-3 * time.Hour)), UpdateTime: ts(fixedTime.Add(-3 * time.Hour)),
		},
		{
			Id: "agt_5", Name: "minimal", Status: v1.AgentStatus_AGENT_STATUS_IDLE,
			CreateTime: ts(fixedTime.Add(-4 * time.Hour)),
		},
	}
}

func findAgent(id string) (*v1.Agent, error) {
	for _, agent := range agents() {
		if agent.GetId() == id {
			return agent, nil
		}
	}
	return nil, notFound("agent", id)
}

// --- Plans ----------------------------------------------------------------------------------

// plans: pln_1 has all three step kinds (a delegate with a nested step) and a cost estimate;
// pln_2 has no steps and no estimate (the wrapper is absent).
func plans() []*v1.Plan {
	return []*v1.Plan{
		{
			Id: "pln_1", Goal: "Summarise the news", AgentId: "agt_1", Priority: 5,
			Steps: []*v1.PlanStep{
				{StepId: "step_1", Kind: &v1.PlanStep_ToolCall{ToolCall: &v1.ToolCallStep{
					Tool:      "web.search",
					Arguments: mustStruct(map[string]any{"q": "polysdk", "limit": 3.0}),
					Timeout:   dur(1500 * time.Millisecond),
				}}},
				{StepId: "step_2", Kind: &v1.PlanStep_Delegate{Delegate: &v1.DelegateStep{
					AgentId: "agt_2", Instructions: "Write the summary",
					Steps: []*v1.PlanStep{
						{StepId: "step_2a", Kind: &v1.PlanStep_WaitForInput{WaitForInput: &v1.WaitForInputStep{
							Prompt: "Which tone?", TimeoutSeconds: int32p(0),
						}}},
					},
				}}},
				{StepId: "step_3", Kind: &v1.PlanStep_WaitForInput{WaitForInput: &v1.WaitForInputStep{Prompt: "Publish?"}}},
			},
			EstimatedCostUsd: wrapperspb.Double(0.25),
			CreateTime:       ts(fixedTime),
		},
		{Id: "pln_2", Goal: "Nothing yet", AgentId: "agt_2", CreateTime: ts(fixedTime.Add(time.Minute))},
	}
}

// --- Runs -----------------------------------------------------------------------------------

// runs: run_1 .. run_5 in every interesting state. run_1 used the largest int64 of tokens;
// run_3 failed with a message; run_4 has an error_message wrapper holding "" (present, empty).
func runs() []*v1.Run {
	return []*v1.Run{
		{
			Id: "run_1", PlanId: "pln_1", Status: v1.RunStatus_RUN_STATUS_SUCCEEDED,
			TokensUsed: 9223372036854775807, CostUsd: 1.25, Labels: map[string]string{"env": "prod"},
			CreateTime: ts(fixedTime), EndTime: ts(fixedTime.Add(time.Minute + time.Nanosecond)),
		},
		{
			Id: "run_2", PlanId: "pln_1", Status: v1.RunStatus_RUN_STATUS_RUNNING,
			TokensUsed: bigInt, CostUsd: 0.5, Labels: map[string]string{},
			CreateTime: ts(fixedTime.Add(time.Hour)),
		},
		{
			Id: "run_3", PlanId: "pln_2", Status: v1.RunStatus_RUN_STATUS_FAILED, TokensUsed: 10,
			ErrorMessage: wrapperspb.String("tool timed out"), Labels: map[string]string{},
			CreateTime: ts(fixedTime.Add(2 * time.Hour)), EndTime: ts(fixedTime.Add(3 * time.Hour)),
		},
		{
			Id: "run_4", PlanId: "pln_1", Status: v1.RunStatus_RUN_STATUS_WAITING_FOR_INPUT,
			ErrorMessage: wrapperspb.String(""), Labels: map[string]string{},
			CreateTime: ts(fixedTime.Add(4 * time.Hour)),
		},
		{
			Id: "run_5", PlanId: "pln_2", Status: v1.RunStatus_RUN_STATUS_QUEUED, LegacyId: "legacy-5",
			Labels: map[string]string{}, CreateTime: ts(fixedTime.Add(5 * time.Hour)),
		},
	}
}

func findRun(id string) (*v1.Run, error) {
	for _, run := range runs() {
		if run.GetId() == id {
			return run, nil
		}
	}
	return nil, notFound("run", id)
}

func runOutput() *structpb.Value {
	value, err := structpb.NewValue(map[string]any{
		"summary": "done", "pages": 3.0, "items": []any{1.0, "two", nil, true},
		"nested": map[string]any{"x": 1.5},
	})
	if err != nil {
		panic(err)
	}
	return value
}

// --- Run events -----------------------------------------------------------------------------

var eventTypes = []v1.RunEventType{
	v1.RunEventType_RUN_EVENT_TYPE_STATUS_CHANGED,
	v1.RunEventType_RUN_EVENT_TYPE_STEP_STARTED,
	v1.RunEventType_RUN_EVENT_TYPE_LOG,
	v1.RunEventType_RUN_EVENT_TYPE_STEP_FINISHED,
	v1.RunEventType_RUN_EVENT_TYPE_STATUS_CHANGED,
}

// runEventFixtures: events with sequence 1..n; event i happens at fixedTime + i s + i ns.
func runEventFixtures(runID string, n int) []*v1.RunEvent {
	events := make([]*v1.RunEvent, 0, n)
	for i := 1; i <= n; i++ {
		events = append(events, &v1.RunEvent{
			Sequence: int64(i),
			RunId:    runID,
			Type:     eventTypes[(i-1)%len(eventTypes)],
			Time:     ts(fixedTime.Add(time.Duration(i) * (time.Second + time.Nanosecond))),
			StepId:   fmt.Sprintf("step_%d", (i+1)/2),
			Data:     mustStruct(map[string]any{"index": float64(i), "message": fmt.Sprintf("event %d of %s", i, runID)}),
		})
	}
	return events
}

// eventsOf: run_1 recorded 5 events, every other known run 1; an unknown run is not_found.
func eventsOf(runID string) ([]*v1.RunEvent, error) {
	if _, err := findRun(runID); err != nil {
		return nil, err
	}
	if runID == "run_1" {
		return runEventFixtures(runID, 5), nil
	}
	return runEventFixtures(runID, 1), nil
}

// --- Messages -------------------------------------------------------------------------------

var roles = []v1.MessageRole{v1.MessageRole_MESSAGE_ROLE_USER, v1.MessageRole_MESSAGE_ROLE_AGENT, v1.MessageRole_MESSAGE_ROLE_SYSTEM}

// messages: msg_1 .. msg_n to agentID, each with a binary attachment that is not UTF-8
// (0x00 0xff 0xfe i 'p' 's'); message i was sent at fixedTime + i ms + i ns.
func messages(agentID string, n int) []*v1.Message {
	out := make([]*v1.Message, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, &v1.Message{
			Id:          fmt.Sprintf("msg_%d", i),
			AgentId:     agentID,
			FromAgentId: "agt_2",
			Role:        roles[(i-1)%len(roles)],
			Content:     fmt.Sprintf("hello %d", i),
			Attachment:  []byte{0x00, 0xff, 0xfe, byte(i), 'p', 's'},
			SendTime:    ts(fixedTime.Add(time.Duration(i) * (time.Millisecond + time.Nanosecond))),
		})
	}
	return out
}

// --- Artifacts and elicitations -------------------------------------------------------------

func artifacts() []*v1.Artifact {
	digest := func(text string) []byte { sum := sha256.Sum256([]byte(text)); return sum[:] }
	return []*v1.Artifact{
		{Id: "art_1", RunId: "run_1", Name: "report.pdf", MediaType: "application/pdf", SizeBytes: bigInt, Sha256: digest("report"), CreateTime: ts(fixedTime)},
		{Id: "art_2", RunId: "run_1", Name: "data.csv", MediaType: "text/csv", SizeBytes: 1024, Sha256: digest("data"), CreateTime: ts(fixedTime.Add(time.Second))},
		{Id: "art_3", RunId: "run_1", Name: "log.txt", MediaType: "text/plain", SizeBytes: 0, Sha256: digest(""), CreateTime: ts(fixedTime.Add(2 * time.Second))},
		{Id: "art_4", RunId: "run_2", Name: "draft.md", MediaType: "text/markdown", SizeBytes: 12, Sha256: digest("draft"), CreateTime: ts(fixedTime.Add(3 * time.Second))},
	}
}

// elicitations: eli_1 is pending, eli_2 was answered (answering it again is failed_precondition).
func elicitations() []*v1.Elicitation {
	schema := mustStruct(map[string]any{
		"type":       "object",
		"properties": map[string]any{"approve": map[string]any{"type": "boolean"}},
		"required":   []any{"approve"},
	})
	return []*v1.Elicitation{
		{
			Id: "eli_1", RunId: "run_4", Prompt: "Publish the summary?", RequestedSchema: schema,
			State: v1.ElicitationState_ELICITATION_STATE_PENDING, ExpireTime: ts(fixedTime.Add(24*time.Hour + 7)),
		},
		{
			Id: "eli_2", RunId: "run_1", Prompt: "Use the draft?", RequestedSchema: proto.Clone(schema).(*structpb.Struct),
			State: v1.ElicitationState_ELICITATION_STATE_ANSWERED,
			Response: &v1.ElicitationResponse{
				Action:  v1.ElicitationAction_ELICITATION_ACTION_ACCEPT,
				Content: mustStruct(map[string]any{"approve": true}),
			},
			ExpireTime: ts(fixedTime),
		},
	}
}

func findElicitation(id string) (*v1.Elicitation, error) {
	for _, elicitation := range elicitations() {
		if elicitation.GetId() == id {
			return elicitation, nil
		}
	}
	return nil, notFound("elicitation", id)
}
