module fruity-sdk-go

go 1.24
