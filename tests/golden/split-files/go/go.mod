module github.com/polysdk/split-contract-sdk-go

go 1.24
