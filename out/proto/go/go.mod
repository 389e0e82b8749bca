module orchestrator-proto-sdk-go

go 1.24
