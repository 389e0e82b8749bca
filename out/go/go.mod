module github.com/polysdk/orchestrator-sdk-go

go 1.24
