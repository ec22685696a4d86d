// The task page behind every email link (web/): the HTML as the browser tests
// and screen readers rely on it (pages.h), and the handler's way through a
// link, a session and a form (task_pages.h), over a real TaskService and a
// SQLite store.
#include <future>
#include <regex>

#include <gtest/gtest.h>

#include "app/task_service.h"
#include "slack/home_view.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_org.h"
#include "web/links.h"
#include "web/pages.h"
#include "web/task_pages.h"

namespace tollgate {
namespace {

using testing::github_admin_for;
using web::PageContext;

bool has(const std::string& html, const std::string& piece) {
  return html.find(piece) != std::string::npos;
}

int count(const std::string& html, const std::string& piece) {
  int n = 0;
  for (auto at = html.find(piece); at != std::string::npos; at = html.find(piece, at + 1)) ++n;
  return n;
}

// The <form>…</form> that contains `piece`, or "".
std::string form_with(const std::string& html, const std::string& piece) {
  auto at = html.find(piece);
  if (at == std::string::npos) return {};
  auto start = html.rfind("<form", at);
  auto end = html.find("</form>", at);
  if (start == std::string::npos || end == std::string::npos) return {};
  return html.substr(start, end + 7 - start);
}

// What every page must hold for a screen reader and the CSP.
void expect_document(const std::string& html) {
  EXPECT_TRUE(has(html, "<html lang=\"en\">"));
  EXPECT_TRUE(has(html, "<header>"));
  EXPECT_TRUE(has(html, "<main"));
  EXPECT_EQ(count(html, "<h1>"), 1) << html;
  EXPECT_TRUE(has(html, "<link rel=\"stylesheet\" href=\"/t/static/page.css\">"));
  EXPECT_FALSE(has(html, "style=")) << "inline styles are forbidden by the CSP";
  EXPECT_FALSE(has(html, "<style"));
  EXPECT_FALSE(has(html, "<script"));
  // Every control has a label: each id a label points at exists, and each
  // textarea and select has one.
  std::regex control("<(textarea|select)[^>]* id=\"([^\"]+)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), control);
       it != std::sregex_iterator(); ++it) {
    std::string id = (*it)[2];
    EXPECT_TRUE(has(html, "<label for=\"" + id + "\">")) << "no label for #" + id;
  }
  EXPECT_EQ(count(html, "<textarea"), count(html, "<textarea id=\""));
  EXPECT_EQ(count(html, "<select"), count(html, "<select id=\""));
}

// ---- The pages, pure ----

class PagesTest : public ::testing::Test {
 protected:
  PageContext ctx(const PersonId& viewer) { return {viewer, "CSRF123", std::nullopt}; }
  testing::World world_;
};

TEST_F(PagesTest, TaskPageRendersTheContract) {
  Task t = world_.request(github_admin_for("ana"));
  std::string html = web::task_page(world_.engine, t, ctx("dana"));
  expect_document(html);
  EXPECT_TRUE(has(html, "<title>#1 · Tollgate</title>"));
  EXPECT_TRUE(has(html, "<a href=\"/t/inbox\">All my tasks</a>"));
  EXPECT_TRUE(has(html, "<h1>Access request #1: Ana Silva → GitHub / Org admin</h1>"));
  EXPECT_TRUE(has(html, "<div id=\"flash\" role=\"status\"></div>"));
  for (const char* h : {"Details", "Insights", "Execution plan", "Comments", "Your actions"})
    EXPECT_TRUE(has(html, std::string("\">") + h + "</h2>")) << h;
  for (const char* term :
       {"Account", "Resource", "Requested by", "Justification", "Emergency", "Duration", "State"})
    EXPECT_TRUE(has(html, std::string("<dt>") + term + "</dt>")) << term;
  EXPECT_TRUE(has(html, "<ol class=\"plan\">"));
  // Dana's open step: marked, for the eye and for a screen reader.
  EXPECT_TRUE(has(html, "<li class=\"mine\" aria-current=\"step\"><strong>Manager</strong>"));
  EXPECT_TRUE(has(html, "(you)"));
  EXPECT_EQ(count(html, "aria-current=\"step\""), 1);
  // The comment form.
  std::string comment = form_with(html, "id=\"comment-form\"");
  EXPECT_TRUE(
      has(comment, "<form id=\"comment-form\" method=\"post\" action=\"/t/tasks/1/comments\">"));
  EXPECT_TRUE(has(comment, "<label for=\"comment-text\">Add a comment</label>"));
  EXPECT_TRUE(has(comment, "<textarea id=\"comment-text\" name=\"text\" rows=\"3\" required>"));
  EXPECT_TRUE(has(comment, "<input type=\"hidden\" name=\"csrf\" value=\"CSRF123\">"));
  EXPECT_TRUE(has(comment, "<button type=\"submit\">Comment</button>"));
  // Approve and Deny, as on Slack; the manager's step needs no reason.
  std::string approve = form_with(html, "name=\"action\" value=\"approve\"");
  EXPECT_TRUE(
      has(approve, "<form class=\"action\" method=\"post\" action=\"/t/tasks/1/actions\">"));
  EXPECT_TRUE(has(approve, "name=\"csrf\" value=\"CSRF123\""));
  EXPECT_TRUE(has(approve, "name=\"step\" value=\"0\""));
  EXPECT_TRUE(has(approve, ">Comment (optional)</label>"));
  EXPECT_TRUE(has(approve, "<textarea id=\"comment-approve\" name=\"comment\""));
  EXPECT_TRUE(has(approve, ">Approve</button>"));
  std::string deny = form_with(html, "name=\"action\" value=\"deny\"");
  EXPECT_TRUE(has(deny, ">Comment (optional)</label>"));
  EXPECT_TRUE(has(deny, ">Deny</button>"));
  // The manager's step does not allow reassignment; Dana is no admin.
  EXPECT_FALSE(has(html, "/reassign\""));
}

TEST_F(PagesTest, EveryUserTextIsEscaped) {
  Task t = world_.request(github_admin_for("ana", "<script>alert(1)</script> & \"more\""));
  t.comments.push_back({1, "ana", "<img src=x onerror=alert(2)>", t.created_at, "api"});
  t.insights.push_back({"x", "<b>bold</b>"});
  std::string html =
      web::task_page(world_.engine, t, {"dana", "\"><script>", web::Flash{true, "<i>"}});
  EXPECT_FALSE(has(html, "<script>"));
  EXPECT_FALSE(has(html, "<img"));
  EXPECT_FALSE(has(html, "<b>bold"));
  EXPECT_FALSE(has(html, "<i>"));
  EXPECT_TRUE(has(html, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;more&quot;"));
  EXPECT_TRUE(has(html, "&lt;img src=x onerror=alert(2)&gt;"));
  EXPECT_TRUE(has(html, "value=\"&quot;&gt;&lt;script&gt;\""));
  EXPECT_TRUE(
      has(html, "<div id=\"flash\" role=\"status\" class=\"error\"><p>&lt;i&gt;</p></div>"));
  slack::HomeTasks tasks;
  tasks.open.push_back(t);
  std::string inbox = web::inbox_page(world_.engine, tasks, "requests", ctx("dana"));
  EXPECT_FALSE(has(inbox, "<script>"));
  EXPECT_TRUE(has(inbox, "&lt;script&gt;alert(1)&lt;/script&gt;"));
}

TEST_F(PagesTest, AReasonIsAskedWhereTheStepRequiresOneAndReassignWhereAllowed) {
  Task t = world_.request(github_admin_for("ana"));
  t = world_.must(t, Action::approve, "dana");
  // Step 2: the resource owners (Olga); deny needs a reason; reassignment allowed.
  std::string html = web::task_page(world_.engine, t, ctx("olga"));
  expect_document(html);
  EXPECT_TRUE(has(form_with(html, "value=\"deny\""), ">Reason (required)</label>"));
  EXPECT_TRUE(has(form_with(html, "value=\"approve\""), ">Comment (optional)</label>"));
  EXPECT_TRUE(has(form_with(html, "value=\"approve\""), "name=\"step\" value=\"1\""));
  std::string reassign = form_with(html, "action=\"/t/tasks/1/reassign\"");
  EXPECT_TRUE(has(reassign, "<label for=\"reassign-to\">Reassign to</label>"));
  EXPECT_TRUE(has(reassign, "<select id=\"reassign-to\" name=\"to\">"));
  EXPECT_TRUE(has(reassign, "<option value=\"oscar\">Oscar Ortiz</option>"));
  EXPECT_TRUE(has(reassign, ">Reason (required)</label>"));
  EXPECT_TRUE(has(reassign, "<button type=\"submit\">Reassign</button>"));
  // Dana decided step 1: her step is marked, but is not the open one.
  std::string dana = web::task_page(world_.engine, t, ctx("dana"));
  EXPECT_TRUE(has(dana, "<li class=\"mine\"><strong>Manager</strong>"));
  EXPECT_FALSE(has(dana, "aria-current=\"step\""));
  EXPECT_TRUE(has(dana, "Approved by Dana Reyes"));
}

TEST_F(PagesTest, NoActionsForAViewerTheStepDoesNotWaitFor) {
  Task t = world_.request(github_admin_for("ana"));
  for (const char* viewer : {"ana", "olga", "boss"}) {
    std::string html = web::task_page(world_.engine, t, ctx(viewer));
    EXPECT_FALSE(has(html, "Your actions")) << viewer;
    EXPECT_FALSE(has(html, "class=\"action\"")) << viewer;
    EXPECT_TRUE(has(html, "id=\"comment-form\"")) << viewer;
    EXPECT_TRUE(web::offered_actions(t, viewer).empty());
  }
}

TEST_F(PagesTest, ProvisioningAndAFailedConnectorOfferWhatSlackOffers) {
  Task t = world_.request(github_admin_for("ana"));
  t = world_.must(t, Action::approve, "dana");
  t = world_.must(t, Action::approve, "olga");
  t = world_.must(t, Action::approve, "sam");
  ASSERT_EQ(t.state, TaskState::provisioning);
  std::string html = web::task_page(world_.engine, t, ctx("pat"));
  EXPECT_TRUE(has(form_with(html, "value=\"provisioned\""), ">Provisioned</button>"));
  std::string wont = form_with(html, "value=\"wont_provision\"");
  EXPECT_TRUE(has(wont, ">Reason (required)</label>"));
  EXPECT_TRUE(has(wont, ">Won&#39;t provision</button>"));
  EXPECT_TRUE(has(html, "Add them in Settings → People."));
  EXPECT_FALSE(has(html, "value=\"retry\""));
  // The same step after its connector failed for good: Retry too.
  TaskStep& s = t.steps[static_cast<std::size_t>(t.current_step())];
  ConnectorRun run;
  run.mode = ProvisioningMode::scim;
  run.label = "SCIM (Okta)";
  run.phase = ConnectorRun::Phase::failed;
  run.answer = "HTTP 503 <unavailable>";
  s.connector = run;
  html = web::task_page(world_.engine, t, ctx("pat"));
  EXPECT_TRUE(has(form_with(html, "value=\"retry\""), ">Retry</button>"));
  EXPECT_TRUE(has(html, "SCIM (Okta) could not add the access: “HTTP 503 &lt;unavailable&gt;”"));
  std::vector<Action> offered;
  for (const auto& a : web::offered_actions(t, "pat")) offered.push_back(a.action);
  EXPECT_EQ(offered,
            (std::vector<Action>{Action::provisioned, Action::wont_provision, Action::retry}));
  // While the connector is at work nobody is assigned: nothing to do.
  s.connector->phase = ConnectorRun::Phase::calling;
  s.assignees.clear();
  EXPECT_TRUE(web::offered_actions(t, "pat").empty());
}

TEST_F(PagesTest, RevocationsSayConfirmRemovalAndKeepAccessAsSlackDoes) {
  Task t = world_.revoke({"dana", "bo", "github", "admin", "left the team"});
  std::string html = web::task_page(world_.engine, t, ctx("olga"));
  EXPECT_TRUE(has(html, "<h1>Revocation #1: Bo Chen → GitHub / Org admin</h1>"));
  EXPECT_TRUE(has(html, "<dt>Reason</dt>"));
  EXPECT_TRUE(has(form_with(html, "value=\"confirm\""), ">Confirm removal</button>"));
  EXPECT_TRUE(has(form_with(html, "value=\"deny\""), ">Keep access</button>"));
}

TEST_F(PagesTest, InboxHasTheAppHomesTabsCountsAndBulkActions) {
  slack::HomeTasks tasks;
  tasks.open.push_back(world_.request(github_admin_for("ana")));
  tasks.open.push_back(world_.request(github_admin_for("cy")));
  tasks.open.push_back(world_.revoke({"dana", "bo", "github", "admin", "gone"}));
  Task done = world_.request({"bo", "", "aws", "staging", "x", std::nullopt, false});
  tasks.completed.push_back(world_.must(done, Action::deny, "dana"));
  tasks.access.push_back({"dana", "aws", "staging", world_.clock.now(),
                          world_.clock.now() + std::chrono::hours(5), 7, GrantSource::request});
  tasks.access.push_back({"dana", "github", "member", world_.clock.now(), std::nullopt, 0,
                          GrantSource::configuration});
  std::string html = web::inbox_page(world_.engine, tasks, "requests", ctx("dana"));
  expect_document(html);
  EXPECT_TRUE(has(html, "<h1>All my tasks</h1>"));
  EXPECT_TRUE(has(html, "<nav aria-label=\"Tabs\">"));
  EXPECT_TRUE(
      has(html, "<a href=\"/t/inbox?tab=requests\" aria-current=\"page\">Requests (2)</a>"));
  EXPECT_TRUE(has(html, "<a href=\"/t/inbox?tab=revocations\">Revocations (1)</a>"));
  EXPECT_TRUE(has(html, ">Awaiting provisioning (0)</a>"));
  EXPECT_TRUE(has(html, ">Awaiting deprovisioning (0)</a>"));
  EXPECT_TRUE(has(html, ">Completed (1)</a>"));
  std::string bulk = form_with(html, "id=\"bulk\"");
  EXPECT_TRUE(has(bulk, "<form id=\"bulk\" method=\"post\" action=\"/t/inbox/actions\">"));
  EXPECT_TRUE(has(bulk, "<caption>"));
  EXPECT_TRUE(has(bulk, "<th scope=\"col\">"));
  EXPECT_TRUE(has(bulk, "<input type=\"checkbox\" name=\"task\" value=\"1:0\" id=\"pick-1\">"));
  EXPECT_TRUE(has(bulk, "<label for=\"pick-1\">#1</label>"));
  EXPECT_TRUE(has(bulk, "<a href=\"/t/tasks/1\">"));
  EXPECT_FALSE(has(bulk, "pick-3")) << "a revocation is on its own tab";
  EXPECT_TRUE(has(bulk, "<label for=\"bulk-comment\">Comment (posted on each task)</label>"));
  EXPECT_TRUE(has(bulk, "<textarea id=\"bulk-comment\" name=\"comment\""));
  EXPECT_TRUE(has(bulk, "name=\"tab\" value=\"requests\""));
  EXPECT_TRUE(has(
      bulk, "<button type=\"submit\" name=\"action\" value=\"approve\">Approve selected</button>"));
  EXPECT_TRUE(
      has(bulk, "<button type=\"submit\" name=\"action\" value=\"deny\">Deny selected</button>"));
  // Your access: Extend where the access has an end; I'm done on each.
  EXPECT_TRUE(has(html, ">Your access</h2>"));
  EXPECT_TRUE(has(html, "AWS / Staging — since 2026-11-26, ends in 5h"));
  EXPECT_EQ(count(html, "action=\"/t/access/extend\""), 1);
  EXPECT_EQ(count(html, "action=\"/t/access/done\""), 2);
  std::string extend = form_with(html, "action=\"/t/access/extend\"");
  EXPECT_TRUE(has(extend, "name=\"app\" value=\"aws\""));
  EXPECT_TRUE(has(extend, "name=\"resource\" value=\"staging\""));
  EXPECT_TRUE(has(extend, "<option value=\"4h\">4h</option>"));
  EXPECT_TRUE(has(extend, ">Why (required)</label>"));
  EXPECT_TRUE(has(extend, "<button type=\"submit\">Extend</button>"));
  EXPECT_TRUE(has(form_with(html, "action=\"/t/access/done\""), ">I'm done</button>"));

  std::string revocations = web::inbox_page(world_.engine, tasks, "revocations", ctx("dana"));
  EXPECT_TRUE(has(revocations, "value=\"confirm\">Confirm selected</button>"));
  std::string completed = web::inbox_page(world_.engine, tasks, "completed", ctx("dana"));
  expect_document(completed);
  EXPECT_TRUE(has(completed, "aria-current=\"page\">Completed (1)</a>"));
  EXPECT_FALSE(has(completed, "id=\"bulk\""));
  EXPECT_TRUE(has(completed, "<a href=\"/t/tasks/4\">"));
}

TEST_F(PagesTest, TheStylesheetHasFocusOutlinesAndFitsAPhone) {
  std::string css(web::page_css());
  EXPECT_TRUE(has(css, ":focus-visible"));
  EXPECT_TRUE(has(css, "outline: 3px solid"));
  EXPECT_TRUE(has(css, "@media (max-width: 30rem)"));
  std::string page = web::message_page("This link has expired", "Open it <again>.");
  expect_document(page);
  EXPECT_TRUE(has(page, "<h1>This link has expired</h1>"));
  EXPECT_TRUE(has(page, "Open it &lt;again&gt;."));
}

// ---- The handler, over a real store ----

constexpr const char* kUrl = "https://tollgate.acme.test";
constexpr const char* kKey = "0123456789abcdef0123456789abcdef-test-key";

const std::string* header(const http::Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return &v;
  }
  return nullptr;
}

std::string decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// "ok:…" or "error:…" from a response's tg_flash cookie.
std::string flash_of(const http::Response& r) {
  const std::string* c = header(r, "Set-Cookie");
  if (c == nullptr || c->rfind("tg_flash=", 0) != 0) return {};
  return decode(c->substr(9, c->find(';') - 9));
}

class HandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = open_store("sqlite:" + dir_.file("t.db"));
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    store_ = std::move(*s);
    service_ =
        std::make_unique<TaskService>(*store_, std::make_shared<Engine>(world_.dir, world_.clock));
    pages_ = std::make_unique<web::TaskPages>(web::WebOptions{kUrl, kKey}, *service_, *store_);
    std::promise<StatusOr<Decision>> p;
    service_->request(github_admin_for("ana", "<script>alert(1)</script>"),
                      [&](StatusOr<Decision> d) { p.set_value(std::move(d)); });
    ASSERT_TRUE(p.get_future().get().ok());  // #1, waiting for Dana
  }

  http::Response call(http::Request req) {
    if (req.path.empty()) req.path = req.target.substr(0, req.target.find('?'));
    if (auto q = req.target.find('?'); q != std::string::npos) req.query = req.target.substr(q + 1);
    EXPECT_TRUE(pages_->handles(req)) << req.target;
    std::promise<http::Response> p;
    pages_->handle(req, [&](http::Response r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  http::Response get(const std::string& target, const std::string& cookies = {}) {
    http::Request req;
    req.method = "GET";
    req.target = target;
    if (!cookies.empty()) req.headers.emplace_back("cookie", cookies);
    return call(std::move(req));
  }
  http::Response post(const std::string& target, const std::string& body,
                      const std::string& cookies, const std::string& origin = kUrl) {
    http::Request req;
    req.method = "POST";
    req.target = target;
    req.body = body;
    req.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
    if (!cookies.empty()) req.headers.emplace_back("cookie", cookies);
    if (!origin.empty()) req.headers.emplace_back("origin", origin);
    return call(std::move(req));
  }

  std::string link_token(TaskNumber task, const PersonId& person,
                         Duration ttl = std::chrono::hours(1)) {
    return web::sign_link(kKey, {task, person, world_.clock.now() + ttl});
  }
  // Opens a link as `person`; returns the session ("tg_session=…") and its CSRF token.
  std::pair<std::string, std::string> session_of(const PersonId& person) {
    http::Response r = get("/t/" + link_token(1, person));
    EXPECT_EQ(r.status, 303);
    const std::string* c = header(r, "Set-Cookie");
    if (c == nullptr) return {};
    std::string cookie = c->substr(0, c->find(';'));
    web::Refusal refusal;
    auto s = web::verify_session(kKey, cookie.substr(11), world_.clock.now(), &refusal);
    EXPECT_TRUE(s.has_value());
    return {cookie, s ? web::csrf_token(kKey, *s) : ""};
  }

  testing::TempDir dir_;
  testing::World world_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<TaskService> service_;
  std::unique_ptr<web::TaskPages> pages_;
};

TEST_F(HandlerTest, AValidLinkStartsASessionAndLeavesTheAddressBar) {
  http::Response r = get("/t/" + link_token(1, "dana"));
  EXPECT_EQ(r.status, 303);
  ASSERT_NE(header(r, "Location"), nullptr);
  EXPECT_EQ(*header(r, "Location"), "/t/open/1");
  // Where it lands moves on to the task by a page of Tollgate's own (the Strict cookie goes along).
  http::Response opening = get("/t/open/1");
  EXPECT_EQ(opening.status, 200);
  EXPECT_TRUE(has(opening.body, R"(<meta http-equiv="refresh" content="0;url=/t/tasks/1">)"))
      << opening.body;
  EXPECT_TRUE(has(opening.body, R"(<a href="/t/tasks/1">Continue to #1</a>)")) << opening.body;
  ASSERT_NE(header(r, "Set-Cookie"), nullptr);
  std::string c = *header(r, "Set-Cookie");
  EXPECT_EQ(c.rfind("tg_session=", 0), 0u);
  EXPECT_TRUE(has(c, "; Path=/t; HttpOnly; SameSite=Strict; Max-Age=1800; Secure")) << c;
  EXPECT_EQ(*header(r, "Cache-Control"), "no-store");
  EXPECT_EQ(*header(r, "Referrer-Policy"), "same-origin");
  // Over plain http the cookie is not Secure.
  web::TaskPages plain(web::WebOptions{"http://localhost:8080", kKey}, *service_, *store_);
  http::Request req;
  req.method = "GET";
  req.path = req.target = "/t/" + link_token(1, "dana");
  std::promise<http::Response> p;
  plain.handle(req, [&](http::Response res) { p.set_value(std::move(res)); });
  http::Response rp = p.get_future().get();
  ASSERT_NE(header(rp, "Set-Cookie"), nullptr);
  EXPECT_FALSE(has(*header(rp, "Set-Cookie"), "Secure"));
}

TEST_F(HandlerTest, BadLinksGetAClearPage) {
  std::string token = link_token(1, "dana");
  std::string tampered = token;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  for (const std::string& bad : {std::string("abc"), tampered}) {
    http::Response r = get("/t/" + bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_TRUE(has(r.body, "<h1>This link is not valid</h1>"));
    EXPECT_EQ(header(r, "Set-Cookie"), nullptr);
  }
  // Signed with another key (the key rotated: every link revoked).
  http::Response other =
      get("/t/" + web::sign_link("another key entirely, 32 bytes+",
                                 {1, "dana", world_.clock.now() + std::chrono::hours(1)}));
  EXPECT_EQ(other.status, 400);
  http::Response expired = get("/t/" + link_token(1, "dana", -std::chrono::minutes(1)));
  EXPECT_EQ(expired.status, 410);
  EXPECT_TRUE(has(expired.body, "<h1>This link has expired</h1>"));
  EXPECT_EQ(expired.content_type, "text/html; charset=utf-8");
  EXPECT_TRUE(has(*header(expired, "Content-Security-Policy"), "default-src 'none'"));
  EXPECT_EQ(*header(expired, "X-Frame-Options"), "DENY");
  EXPECT_EQ(*header(expired, "X-Content-Type-Options"), "nosniff");
  // Someone the task does not involve, someone unknown, a task that is not there.
  for (auto [task, person] :
       std::vector<std::pair<TaskNumber, PersonId>>{{1, "oscar"}, {1, "ghost"}, {99, "dana"}}) {
    http::Response r = get("/t/" + link_token(task, person));
    EXPECT_EQ(r.status, 403) << person;
    EXPECT_TRUE(has(r.body, "<h1>This link no longer opens this task</h1>"));
  }
}

TEST_F(HandlerTest, PagesNeedASession) {
  for (const char* target : {"/t/tasks/1", "/t/inbox", "/t/inbox?tab=completed"}) {
    http::Response r = get(target);
    EXPECT_EQ(r.status, 401) << target;
    EXPECT_TRUE(has(r.body, "<h1>Your session has ended</h1>"));
    EXPECT_TRUE(has(r.body, "Open the link from your email again."));
    EXPECT_EQ(get(target, "tg_session=forged.value").status, 401);
  }
  auto [cookie, csrf] = session_of("dana");
  http::Response page = get("/t/tasks/1", "other=1; " + cookie);
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_TRUE(has(page.body, "<h1>Access request #1: Ana Silva → GitHub / Org admin</h1>"));
  EXPECT_TRUE(has(page.body, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_TRUE(has(page.body, "name=\"csrf\" value=\"" + csrf + "\""));
  // The session expires.
  world_.clock.advance(std::chrono::minutes(31));
  EXPECT_EQ(get("/t/tasks/1", cookie).status, 401);
}

TEST_F(HandlerTest, ATaskThatIsNotTheViewersIsNotShown) {
  auto [cookie, csrf] = session_of("dana");
  for (const char* n : {"2", "99"}) {
    http::Response r = get(std::string("/t/tasks/") + n, cookie);
    EXPECT_EQ(r.status, 404);
    EXPECT_TRUE(has(r.body, std::string("<h1>#") + n + " is not one of your tasks</h1>"));
  }
  std::promise<StatusOr<Decision>> p;
  service_->request({"olga", "", "aws", "staging", "x", std::nullopt, false},
                    [&](StatusOr<Decision> d) { p.set_value(std::move(d)); });
  ASSERT_TRUE(p.get_future().get().ok());  // #2: Olga's, for her manager
  EXPECT_EQ(get("/t/tasks/2", cookie).status, 404);
}

TEST_F(HandlerTest, FormsAreCheckedForSessionOriginAndCsrf) {
  auto [cookie, csrf] = session_of("dana");
  std::string body = "csrf=" + csrf + "&step=0&action=approve&comment=";
  EXPECT_EQ(post("/t/tasks/1/actions", body, "").status, 401);
  http::Response wrong = post("/t/tasks/1/actions", body, cookie, "https://evil.test");
  EXPECT_EQ(wrong.status, 403);
  EXPECT_TRUE(has(wrong.body, "<h1>This form did not come from Tollgate</h1>"));
  EXPECT_EQ(post("/t/tasks/1/actions", body, cookie, "https://tollgate.acme.test:444").status, 403);
  EXPECT_EQ(post("/t/tasks/1/actions", body, cookie, "").status,
            403);  // neither Origin nor Referer
  http::Response bad = post("/t/tasks/1/actions", "csrf=nope&step=0&action=approve", cookie);
  EXPECT_EQ(bad.status, 403);
  EXPECT_TRUE(has(bad.body, "<h1>This form did not come from Tollgate</h1>"));
  // Another session's token is not this one's.
  auto [cookie2, csrf2] = session_of("dana");
  EXPECT_EQ(post("/t/tasks/1/actions", "csrf=" + csrf2 + "&step=0&action=approve", cookie).status,
            403);
  EXPECT_EQ(store_->task(1)->current_step(), 0) << "nothing was decided";
  // A Referer from Tollgate's own page will do when there is no Origin.
  http::Request req;
  req.method = "POST";
  req.target = "/t/tasks/1/comments";
  req.body = "csrf=" + csrf + "&text=looks+fine%21";
  req.headers = {{"cookie", cookie}, {"referer", std::string(kUrl) + "/t/tasks/1"}};
  http::Response r = call(req);
  EXPECT_EQ(r.status, 303);
  auto t = store_->task(1);
  ASSERT_EQ(t->comments.size(), 1u);
  EXPECT_EQ(t->comments[0].text, "looks fine!");
  EXPECT_EQ(t->comments[0].source, "web");
  EXPECT_EQ(t->comments[0].author, "dana");
}

TEST_F(HandlerTest, ADecisionGoesThroughTheEngineAndALateOneIsTold) {
  auto [cookie, csrf] = session_of("dana");
  http::Response r = post("/t/tasks/1/actions",
                          "csrf=" + csrf + "&step=0&action=approve&comment=ok+by+me", cookie);
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(*header(r, "Location"), "/t/tasks/1");
  EXPECT_EQ(flash_of(r).rfind("ok:Approved #1", 0), 0u) << flash_of(r);
  EXPECT_TRUE(has(*header(r, "Set-Cookie"), "; Path=/t; HttpOnly; SameSite=Strict; Max-Age=60"));
  auto t = store_->task(1);
  EXPECT_EQ(t->current_step(), 1);
  EXPECT_EQ(t->steps[0].decided_by, "dana");
  auto events = store_->task_events(1);
  ASSERT_TRUE(events.ok());
  bool via = false;
  for (const StoredEvent& e : *events) {
    if (e.event.type == "approved") via = e.event.get("via") && *e.event.get("via") == "web link";
  }
  EXPECT_TRUE(via) << "the history says the decision came by a web link";
  // The same click again: the engine's answer, as in Slack.
  http::Response late =
      post("/t/tasks/1/actions", "csrf=" + csrf + "&step=0&action=approve", cookie);
  EXPECT_EQ(late.status, 303);
  EXPECT_EQ(flash_of(late), "error:#1 was already approved by Dana Reyes at 2026-11-26 10:00 UTC");
  // The next page shows it once, and clears it.
  std::string flash_cookie =
      header(late, "Set-Cookie")->substr(0, header(late, "Set-Cookie")->find(';'));
  http::Response page = get("/t/tasks/1", cookie + "; " + flash_cookie);
  EXPECT_TRUE(has(page.body,
                  "<div id=\"flash\" role=\"status\" class=\"error\"><p>#1 was already "
                  "approved by Dana Reyes at 2026-11-26 10:00 UTC</p></div>"));
  ASSERT_NE(header(page, "Set-Cookie"), nullptr);
  EXPECT_EQ(header(page, "Set-Cookie")->rfind("tg_flash=; ", 0), 0u);
  EXPECT_TRUE(has(*header(page, "Set-Cookie"), "Max-Age=0"));
}

TEST_F(HandlerTest, RefusalsBecomeAnErrorFlash) {
  auto [dana, dana_csrf] = session_of("dana");
  ASSERT_EQ(post("/t/tasks/1/actions", "csrf=" + dana_csrf + "&step=0&action=approve", dana).status,
            303);
  // Step 2 wants a reason to deny.
  auto [olga, csrf] = session_of("olga");
  http::Response r =
      post("/t/tasks/1/actions", "csrf=" + csrf + "&step=1&action=deny&comment=+", olga);
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(flash_of(r).rfind("error:", 0), 0u);
  EXPECT_TRUE(has(flash_of(r), "reason is required")) << flash_of(r);
  // Not hers to decide: Dana's step is done.
  r = post("/t/tasks/1/actions", "csrf=" + dana_csrf + "&step=1&action=approve", dana);
  EXPECT_EQ(flash_of(r).rfind("error:", 0), 0u);
  // A reassignment, to someone the step allows.
  r = post("/t/tasks/1/reassign", "csrf=" + csrf + "&step=1&to=oscar&comment=on+leave", olga);
  EXPECT_EQ(flash_of(r).rfind("ok:", 0), 0u) << flash_of(r);
  EXPECT_EQ(store_->task(1)->steps[1].assignees, std::vector<PersonId>{"oscar"});
  // Not an action a page offers.
  EXPECT_EQ(post("/t/tasks/1/actions", "csrf=" + csrf + "&step=1&action=remind", olga).status, 400);
}

TEST_F(HandlerTest, TheInboxActsInBulkAndEndsAccess) {
  auto [cookie, csrf] = session_of("dana");
  http::Response inbox = get("/t/inbox", cookie);
  EXPECT_EQ(inbox.status, 200);
  EXPECT_TRUE(has(inbox.body, "aria-current=\"page\">Requests (1)</a>"));
  EXPECT_TRUE(has(inbox.body, "value=\"1:0\" id=\"pick-1\""));
  http::Response none =
      post("/t/inbox/actions", "csrf=" + csrf + "&tab=requests&action=approve", cookie);
  EXPECT_EQ(*header(none, "Location"), "/t/inbox?tab=requests");
  EXPECT_EQ(flash_of(none).rfind("error:", 0), 0u);
  http::Response r = post(
      "/t/inbox/actions",
      "csrf=" + csrf + "&tab=requests&task=1%3A0&task=77%3A0&comment=batch&action=approve", cookie);
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(*header(r, "Location"), "/t/inbox?tab=requests");
  std::string flash = flash_of(r);
  EXPECT_TRUE(has(flash, "#1: Approved #1")) << flash;
  EXPECT_TRUE(has(flash, "#77: #77 is not one of your tasks")) << flash;
  EXPECT_EQ(store_->task(1)->current_step(), 1);
  // A tab's bulk action only.
  EXPECT_EQ(post("/t/inbox/actions", "csrf=" + csrf + "&tab=requests&task=1%3A1&action=provisioned",
                 cookie)
                .status,
            400);
  // I'm done on access Ana does not hold; Extend without a reason.
  auto [ana, ana_csrf] = session_of("ana");
  r = post("/t/access/done", "csrf=" + ana_csrf + "&app=aws&resource=staging&tab=requests", ana);
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(flash_of(r).rfind("error:", 0), 0u) << flash_of(r);
  r = post("/t/access/extend",
           "csrf=" + ana_csrf + "&app=aws&resource=staging&duration=4h&reason=", ana);
  EXPECT_EQ(flash_of(r), "error:Say why you need more time.");
}

TEST_F(HandlerTest, OtherAddressesAndMethods) {
  EXPECT_EQ(get("/t/tasks/1/actions").status, 405);
  EXPECT_EQ(get("/t/nothing/here").status, 404);
  EXPECT_TRUE(has(get("/t/nothing/here").body, "<h1>Not found</h1>"));
  EXPECT_EQ(get("/t").status, 404);
  EXPECT_EQ(get("/t/tasks/abc").status, 404);
  http::Request req;
  req.method = "POST";
  req.target = "/t/" + link_token(1, "dana");
  EXPECT_EQ(call(req).status, 405);
  http::Response css = get("/t/static/page.css");
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(css.content_type, "text/css; charset=utf-8");
  // No public URL or no key: no page at all.
  web::TaskPages off(web::WebOptions{"", kKey}, *service_, *store_);
  http::Request r;
  r.path = "/t/tasks/1";
  EXPECT_FALSE(off.handles(r));
}

}  // namespace
}  // namespace tollgate
