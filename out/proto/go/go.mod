module github.com/polysdk/orchestrator-proto-sdk-go

go 1.24
