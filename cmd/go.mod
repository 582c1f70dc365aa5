module github.com/awskeep/awskeep/cmd

go 1.26
