module split-contract-sdk-go

go 1.24
