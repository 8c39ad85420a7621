#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// Writes a response body as JSON or as XML from one sequence of calls, so that both formats
// always carry the same fields. Shapes:
//   BeginObject("Data") ... EndObject()        JSON "Data":{...}     XML <Data>...</Data>
//   BeginArray("Item") ... EndArray()          JSON "Item":[...]     XML repeated <Item>...</Item>
//     BeginItem() ... EndItem()                JSON {...}            XML <Item>...</Item>
//     ItemString("v")                          JSON "v"              XML <Item>v</Item>
// An array wrapped in an object (`"Data":{"SimpleOTAJobInfo":[...]}`) is BeginObject + BeginArray;
// a bare array beside other fields is BeginArray alone. An empty object renders as `<Data/>`.

namespace otad::rpc {

enum class Format { kJson, kXml };

class ResponseWriter {
  public:
    explicit ResponseWriter(Format format);

    Format format() const { return format_; }

    /// Opens the top level: `{` or the XML declaration plus `<root>`.
    void BeginRoot(std::string_view root_element);
    void EndRoot();

    void String(std::string_view name, std::string_view value);
    void Int(std::string_view name, int64_t value);
    void Bool(std::string_view name, bool value);

    void BeginObject(std::string_view name);
    void EndObject();
    void BeginArray(std::string_view item_name);
    void EndArray();
    void BeginItem();
    void EndItem();
    void ItemString(std::string_view value);

    /// The finished body. Valid after EndRoot.
    std::string& body() { return out_; }

  private:
    struct Frame {
        std::string name;
        bool is_array = false;
        bool first = true;        // JSON: no comma needed yet
        size_t open_tag_end = 0;  // XML: where the opening tag ended, for <x/> collapsing
    };
    void Key(std::string_view name);
    void Comma();
    void OpenTag(std::string_view name);
    void CloseTag(std::string_view name);
    void AppendJsonString(std::string_view s);
    void AppendXmlText(std::string_view s);

    Format format_;
    std::string out_;
    std::string root_;
    std::vector<Frame> stack_;
};

}  // namespace otad::rpc
