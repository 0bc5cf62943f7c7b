package backup

import (
	"strings"
	"testing"
)

func TestControllerParsing(t *testing.T) {
	out := "List backups...\nlocalhost ok: {\n    \"changed\": false,\n    \"msg\": [\n        \"thingpark-enterprise-backup-20220120091609\",\n        \"thingpark-enterprise-backup-20220121091609\"\n    ]\n}\n"
	if got := msgList(out); strings.Join(got, ",") != "thingpark-enterprise-backup-20220120091609,thingpark-enterprise-backup-20220121091609" {
		t.Errorf("msgList = %v", got)
	}
	if got := msgList("localhost ok: {\n    \"msg\": []\n}\n"); len(got) != 0 {
		t.Errorf("empty list: %v", got)
	}
	if got := ansibleFailure("x\nlocalhost failed: {\n    \"changed\": false,\n    \"msg\": \"Backup \\\"b\\\" not found\"\n}\n"); got != `Backup "b" not found` {
		t.Errorf("ansibleFailure = %q", got)
	}
	md, err := parseMetadata("n", "helm:\n    appVersion: 7.1.0\n    chart: thingpark-enterprise-1.0.2\n    releaseName: tpe\n    releaseNamespace: thingpark\n    revision: '7'\nid: thingpark-enterprise-backup-20220120091609\ntm: '2022-01-20T09:16:09Z'\ntype: on-demand")
	if err != nil || md.AppVersion != "7.1.0" || md.Chart != "thingpark-enterprise-1.0.2" || md.Revision != 7 || md.Name != "thingpark-enterprise-backup-20220120091609" {
		t.Errorf("parseMetadata = %+v %v", md, err)
	}
}
