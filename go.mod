module github.com/ecsguard/ecsguard

go 1.26
