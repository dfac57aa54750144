// Provider configuration, model references, rate-limit header parsing and error mapping.
#include <doctest/doctest.h>

#include <cstdlib>

#include "store/models/client.hpp"
#include "store/models/errors.hpp"
#include "store/models/provider.hpp"
#include "store/models/uses.hpp"

using namespace pxt;
using namespace pxt::models;

TEST_CASE("x-ratelimit reset durations and retry-after values") {
  CHECK(parse_reset_duration("1s") == doctest::Approx(1));
  CHECK(parse_reset_duration("20ms") == doctest::Approx(0.02));
  CHECK(parse_reset_duration("6m0s") == doctest::Approx(360));
  CHECK(parse_reset_duration("1m30.5s") == doctest::Approx(90.5));
  CHECK(parse_reset_duration("2") == doctest::Approx(2));
  CHECK(parse_reset_duration("") < 0);
  CHECK(parse_reset_duration("soon") < 0);
  CHECK(parse_reset_duration("1x") < 0);
  CHECK(parse_retry_after("250", "") == doctest::Approx(0.25));
  CHECK(parse_retry_after("", "3") == doctest::Approx(3));
  CHECK(parse_retry_after("50", "9") == doctest::Approx(0.05));  // the millisecond header wins
  CHECK(parse_retry_after("", "") < 0);
  CHECK(parse_retry_after("", "Wed, 21 Oct 2015 07:28:00 GMT") == doctest::Approx(0));  // in the past
}

TEST_CASE("[models.NAME] tables: values, ${ENV}, and every mistake with its line") {
  setenv("PXT_TEST_KEY", "sk-secret", 1);
  auto ok = parse_model_tables(R"(
[models.local]
base_url = "http://127.0.0.1:8000/v1/"
api_key = "${PXT_TEST_KEY}"
timeout_s = 2.5
max_concurrency = 3
rpm = 60
)",
                               "svc.toml");
  REQUIRE(ok.ok());
  REQUIRE(ok->size() == 1);
  CHECK((*ok)[0].name == "local");
  CHECK((*ok)[0].api_key == "sk-secret");
  CHECK((*ok)[0].timeout_s == doctest::Approx(2.5));
  CHECK((*ok)[0].max_concurrency == 3);
  CHECK((*ok)[0].rpm == 60);
  CHECK((*ok)[0].location == "svc.toml:2");
  auto bad = parse_model_tables(R"(
[models.a]
base_url = "ftp://x"
[models.b]
base_url = "http://h/v1"
max_concurent = 3
[models.c]
api_key = "${PXT_TEST_NOT_SET_ANYWHERE}"
)",
                                "svc.toml");
  REQUIRE_FALSE(bad.ok());
  const std::string& m = bad.error().message;
  CHECK(m.find("svc.toml:2: models.a.base_url: 'ftp://x' is not an http:// or https:// URL") !=
        std::string::npos);
  CHECK(m.find("svc.toml:6: models.b.max_concurent: unknown key, did you mean 'max_concurrency'?") !=
        std::string::npos);
  CHECK(m.find("environment variable 'PXT_TEST_NOT_SET_ANYWHERE' is not set") != std::string::npos);
  CHECK(m.find("svc.toml:7: models.c: missing base_url") != std::string::npos);
  // A pyproject keeps them under [tool.pixeltable].
  auto py = parse_model_tables("[tool.pixeltable.models.p]\nbase_url = \"https://api.example.com/v1\"\n",
                               "/x/pyproject.toml");
  REQUIRE(py.ok());
  REQUIRE(py->size() == 1);
  CHECK((*py)[0].base_url == "https://api.example.com/v1");
}

TEST_CASE(
    "layers: a later declaration of a name replaces the earlier one; the environment's openai is lowest") {
  setenv("OPENAI_API_KEY", "sk-env", 1);
  unsetenv("OPENAI_BASE_URL");
  ProviderConfig home{"openai", "http://home/v1"}, svc{"openai", "http://svc/v1"}, other{"o", "http://o/v1"};
  auto merged = merge_providers({{home, other}, {svc}});
  REQUIRE(merged.size() == 2);
  CHECK(merged[0].base_url == "http://svc/v1");
  auto env_only = merge_providers({});
  REQUIRE(env_only.size() == 1);
  CHECK(env_only[0].base_url == "https://api.openai.com/v1");
  CHECK(env_only[0].api_key == "sk-env");
  unsetenv("OPENAI_API_KEY");
}

TEST_CASE("model references and unknown providers") {
  auto plain = parse_model_ref("gpt-4o-mini");
  REQUIRE(plain.ok());
  CHECK(plain->provider == "openai");
  auto hf = parse_model_ref("vllm/BAAI/bge-small-en-v1.5");
  REQUIRE(hf.ok());
  CHECK(hf->provider == "vllm");
  CHECK(hf->model == "BAAI/bge-small-en-v1.5");
  CHECK_FALSE(parse_model_ref("stub/").ok());
  CHECK_FALSE(parse_model_ref("").ok());
  configure_providers({ProviderConfig{"stub", "http://127.0.0.1:1/v1"}});
  auto missing = provider_for(ModelRef{"stbu", "m"});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("unknown model provider 'stbu' in 'stbu/m', did you mean 'stub'?") !=
        std::string::npos);
  CHECK(provider_for(ModelRef{"stub", "m"}).ok());
  configure_providers({});
}

TEST_CASE("errors: codes, statuses, retryability, and the key redacted") {
  CHECK(failure_for_status(401) == models::Failure::auth);
  CHECK(failure_for_status(403) == models::Failure::auth);
  CHECK(failure_for_status(404) == models::Failure::bad_request);
  CHECK(failure_for_status(408) == models::Failure::timeout);
  CHECK(failure_for_status(429) == models::Failure::rate_limited);
  CHECK(failure_for_status(500) == models::Failure::provider_error);
  CHECK(failure_for_status(503) == models::Failure::overloaded);
  Error e = model_error(models::Failure::rate_limited, "p", "m", "upstream answered 429", 7, 429);
  CHECK(e.pxt_code == ErrorCode::rate_limited);
  CHECK(error_code_info(e.pxt_code)->http_status == 429);
  CHECK(error_code_info(e.pxt_code)->retryable);
  CHECK(e.retry_after == doctest::Approx(7));
  CHECK(e.provider == "p");
  CHECK(e.provider_status == 429);
  CHECK(e.message == "model provider 'p' (model 'm'): upstream answered 429");
  CHECK(redact("bad key sk-abc, sk-abc again", "sk-abc") == "bad key ***, *** again");
  CHECK(redact("nothing", "") == "nothing");
}

TEST_CASE("model uses: the literal model argument of each model function") {
  auto uses = model_uses_in(
      "chat(prompt, 'openai/gpt-4o') || chat_completion(json_array(x), 'vllm/llama', json_object('a', 1)) "
      "|| embed(upper(text), 'o/e') || chat(p, model_col)",
      "here");
  REQUIRE(uses.size() == 3);
  CHECK(uses[0].function == "chat");
  CHECK(uses[0].model == "openai/gpt-4o");
  CHECK(uses[1].model == "vllm/llama");
  CHECK(uses[2].function == "embed");
  CHECK(uses[2].model == "o/e");
}
