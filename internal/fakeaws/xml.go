package fakeaws

import (
	"bytes"
	"encoding/xml"
	"time"
)

// writeResultDoc writes a success document:
//
//	<ActionResponse xmlns="ns">
//	  <ActionResult>...</ActionResult>   (absent when result is nil)
//	  <ResponseMetadata><RequestId>id</RequestId></ResponseMetadata>
//	</ActionResponse>
func writeResultDoc(buf *bytes.Buffer, ns, action string, result any, id string) error {
	buf.WriteString(`<` + action + `Response xmlns="` + ns + `">`)
	if result != nil {
		enc := xml.NewEncoder(buf)
		start := xml.StartElement{Name: xml.Name{Local: action + "Result"}}
		if err := enc.EncodeElement(result, start); err != nil {
			return err
		}
		if err := enc.Flush(); err != nil {
			return err
		}
	}
	buf.WriteString(`<ResponseMetadata><RequestId>` + id + `</RequestId></ResponseMetadata>`)
	buf.WriteString(`</` + action + `Response>`)
	return nil
}

// errorDoc is the Query protocol's error document.
type errorDoc struct {
	XMLName   xml.Name // ErrorResponse in the service's namespace
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

// writeErrorDoc writes
//
//	<ErrorResponse xmlns="ns">
//	  <Error><Type>Sender</Type><Code>..</Code><Message>..</Message></Error>
//	  <RequestId>id</RequestId>
//	</ErrorResponse>
func writeErrorDoc(buf *bytes.Buffer, ns string, e *apiError, id string) {
	doc := errorDoc{XMLName: xml.Name{Space: ns, Local: "ErrorResponse"}, Type: e.errorType(), Code: e.code, Message: e.message, RequestID: id}
	// Marshalling this fixed shape of strings cannot fail.
	_ = xml.NewEncoder(buf).Encode(doc)
}

// isoTime is the Query protocol's timestamp format (ISO 8601, UTC, whole
// seconds), e.g. 2024-05-01T12:00:00Z.
func isoTime(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// members is a Query protocol list: <Name><member>..</member>...</Name>. The
// enclosing element is written even when the list is empty, as IAM does.
type members[T any] struct {
	Member []T `xml:"member"`
}

type userXML struct {
	Path             string `xml:"Path"`
	UserName         string `xml:"UserName"`
	UserId           string `xml:"UserId"`
	Arn              string `xml:"Arn"`
	CreateDate       string `xml:"CreateDate"`
	PasswordLastUsed string `xml:"PasswordLastUsed,omitempty"`
}

type loginProfileXML struct {
	UserName              string `xml:"UserName"`
	CreateDate            string `xml:"CreateDate"`
	PasswordResetRequired bool   `xml:"PasswordResetRequired"`
}

type mfaDeviceXML struct {
	UserName     string `xml:"UserName"`
	SerialNumber string `xml:"SerialNumber"`
	EnableDate   string `xml:"EnableDate"`
}

type passwordPolicyXML struct {
	MinimumPasswordLength      int   `xml:"MinimumPasswordLength"`
	RequireSymbols             bool  `xml:"RequireSymbols"`
	RequireNumbers             bool  `xml:"RequireNumbers"`
	RequireUppercaseCharacters bool  `xml:"RequireUppercaseCharacters"`
	RequireLowercaseCharacters bool  `xml:"RequireLowercaseCharacters"`
	AllowUsersToChangePassword bool  `xml:"AllowUsersToChangePassword"`
	ExpirePasswords            bool  `xml:"ExpirePasswords"`
	MaxPasswordAge             *int  `xml:"MaxPasswordAge,omitempty"`
	PasswordReusePrevention    *int  `xml:"PasswordReusePrevention,omitempty"`
	HardExpiry                 *bool `xml:"HardExpiry,omitempty"`
}

type evaluationResultXML struct {
	EvalActionName       string          `xml:"EvalActionName"`
	EvalResourceName     string          `xml:"EvalResourceName"`
	EvalDecision         string          `xml:"EvalDecision"`
	MatchedStatements    members[string] `xml:"MatchedStatements"`
	MissingContextValues members[string] `xml:"MissingContextValues"`
}
