module github.com/polysdk/fruity-sdk-go

go 1.24
