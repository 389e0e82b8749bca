module github.com/polysdk/hostile-danger-x-script-sdk-go

go 1.24
