package crawler

import (
	"reflect"
	"testing"
	"time"
)

// What a store keeps of a task comes back whole, a retry's attempts and
// first try included, and the zero fields take no room.
func TestTaskRoundTrip(t *testing.T) {
	first := time.Unix(1700000000, 123456789)
	for _, task := range []Task{
		{URL: "http://x/"},
		{URL: "http://x/a?b=c", Depth: 3, Parent: "http://x/", Hops: 1, SeedChain: true, FromSitemap: true},
		{URL: "http://x/l", Listed: true, Line: 42, Attempts: 2, FirstTry: first},
		{URL: "http://x/p2", Depth: 1, Chain: 4, Data: []byte(`{"category":"Poetry"}`)},
	} {
		b := MarshalTask(task)
		got, err := UnmarshalTask(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if got.URL != task.URL || got.Depth != task.Depth || got.Parent != task.Parent || got.Line != task.Line ||
			got.Hops != task.Hops || got.SeedChain != task.SeedChain || got.FromSitemap != task.FromSitemap ||
			got.Listed != task.Listed || got.Attempts != task.Attempts || !got.FirstTry.Equal(task.FirstTry) ||
			got.Chain != task.Chain || string(got.Data) != string(task.Data) {
			t.Errorf("%s came back as %+v, want %+v", b, got, task)
		}
	}
	if b := MarshalTask(Task{URL: "http://x/"}); string(b) != `{"u":"http://x/"}` {
		t.Errorf("a plain task is %s", b)
	}
	if _, err := UnmarshalTask([]byte(`{"d":1}`)); err == nil {
		t.Error("a task without a URL was accepted")
	}
}

// Every field of a Task survives both ways a frontier keeps it, the
// stored line and the packed queue entry, so that a field added later
// cannot be dropped by one of them unnoticed (a refused HEAD's ByGet was).
func TestEveryTaskFieldIsKept(t *testing.T) {
	var task Task
	v := reflect.ValueOf(&task).Elem()
	for i := range v.NumField() {
		f, field := v.Field(i), v.Type().Field(i)
		if !field.IsExported() || field.Name == "Invalid" { // Invalid is never queued
			continue
		}
		switch f.Interface().(type) {
		case string:
			f.SetString("http://x/" + field.Name)
		case int:
			f.SetInt(int64(i + 1))
		case bool:
			f.SetBool(true)
		case []byte:
			f.SetBytes([]byte(`{"` + field.Name + `":1}`))
		case time.Time:
			f.Set(reflect.ValueOf(time.Unix(1700000000, 123456789)))
		default:
			t.Fatalf("Task.%s: this test does not know how to set a %s", field.Name, field.Type)
		}
	}
	stored, err := UnmarshalTask(MarshalTask(task))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stored, task) {
		t.Errorf("stored and read, %+v came back as %+v", task, stored)
	}
	if packed := pack(task, 1).task(); !reflect.DeepEqual(packed, task) {
		t.Errorf("packed and unpacked, %+v came back as %+v", task, packed)
	}
}
