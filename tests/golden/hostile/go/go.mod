module hostile-danger-x-script-sdk-go

go 1.24
