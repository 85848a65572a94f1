module github.com/scopekit/scopekit/examples

go 1.26.8

require (
	github.com/chromedp/chromedp v0.23.0
	github.com/scopekit/scopekit v0.0.0
	golang.org/x/oauth2 v0.37.0
)

require (
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/go-jose/go-jose/v4 v4.1.8 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
)

replace github.com/scopekit/scopekit => ../
