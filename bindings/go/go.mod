module ernie

go 1.19
