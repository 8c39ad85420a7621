#include "common/time_format.hpp"
#include "rpc/actions/action.hpp"

namespace otad::rpc {

Status CreateProductAction(ActionContext& ctx) {
    const ParamMap& p = ctx.params;
    domain::CreateProductCommand cmd;
    OTA_ASSIGN_OR_RETURN(cmd.product_name, RequiredString(p, "ProductName"));
    OTA_ASSIGN_OR_RETURN(cmd.node_type, RequiredInt(p, "NodeType"));
    cmd.aliyun_commodity_code = PresentString(p, "AliyunCommodityCode");
    OTA_ASSIGN_OR_RETURN(cmd.data_format, OptionalInt(p, "DataFormat"));
    cmd.description = OptionalString(p, "Description");
    cmd.protocol_type = OptionalString(p, "ProtocolType");
    cmd.net_type = PresentString(p, "NetType");
    cmd.auth_type = PresentString(p, "AuthType");
    OTA_ASSIGN_OR_RETURN(cmd.id2, OptionalBool(p, "Id2"));
    cmd.category_key = OptionalString(p, "CategoryKey");
    OTA_ASSIGN_OR_RETURN(cmd.publish_auto, OptionalBool(p, "PublishAuto"));
    OTA_ASSIGN_OR_RETURN(cmd.validate_type, OptionalInt(p, "ValidateType"));
    OTA_ASSIGN_OR_RETURN(const domain::Product product, ctx.services.CreateProduct(ctx.scope, cmd));

    ResponseWriter& w = ctx.out;
    w.String("ProductKey", product.product_key);
    w.BeginObject("Data");
    w.String("ProductKey", product.product_key);
    w.String("ProductName", product.product_name);
    w.String("ProductSecret", product.product_secret);
    w.String("Description", product.description);
    w.Int("NodeType", product.node_type);
    w.Int("DataFormat", product.data_format);
    w.String("AliyunCommodityCode", product.aliyun_commodity_code);
    w.String("AuthType", product.auth_type);
    w.String("ProtocolType", product.protocol_type);
    w.Bool("Id2", product.id2);
    w.EndObject();
    return Ok();
}

Status QueryProductAction(ActionContext& ctx) {
    OTA_ASSIGN_OR_RETURN(const std::string product_key, RequiredString(ctx.params, "ProductKey"));
    OTA_ASSIGN_OR_RETURN(const domain::ProductDetail detail,
                         ctx.services.QueryProduct(ctx.scope, product_key));
    const domain::Product& product = detail.product;
    ResponseWriter& w = ctx.out;
    w.BeginObject("Data");
    w.String("ProductKey", product.product_key);
    w.String("ProductName", product.product_name);
    w.String("ProductSecret", product.product_secret);
    w.String("Description", product.description);
    w.Int("NodeType", product.node_type);
    w.Int("DataFormat", product.data_format);
    w.String("AliyunCommodityCode", product.aliyun_commodity_code);
    w.String("AuthType", product.auth_type);
    w.String("CategoryKey", product.category_key);
    w.String("CategoryName", "");
    w.Int("DeviceCount", detail.device_count);
    w.Int("GmtCreate", product.created_ms);
    w.Bool("Id2", product.id2);
    w.Int("NetType", product.net_type);
    w.Bool("Owner", true);
    w.String("ProductStatus", product.product_status);
    w.String("ProtocolType", product.protocol_type);
    w.Int("ValidateType", product.validate_type);
    w.EndObject();
    return Ok();
}

Status QueryProductListAction(ActionContext& ctx) {
    int64_t current_page = 0;
    int64_t page_size = 0;
    OTA_TRY(ReadPaging(ctx.params, true, 200, current_page, page_size));
    OTA_ASSIGN_OR_RETURN(const auto page,
                         ctx.services.ListProducts(ctx.scope, current_page, page_size));
    ResponseWriter& w = ctx.out;
    // The only list whose paging fields sit inside Data.
    w.BeginObject("Data");
    WritePaging(w, current_page, page_size, page.total);
    w.BeginObject("List");
    w.BeginArray("ProductInfo");
    for (const domain::ProductSummary& s : page.items) {
        const domain::Product& p = s.product;
        w.BeginItem();
        w.String("ProductKey", p.product_key);
        w.String("ProductName", p.product_name);
        w.String("Description", p.description);
        w.Int("NodeType", p.node_type);
        w.Int("DataFormat", p.data_format);
        w.String("AuthType", p.auth_type);
        w.Int("DeviceCount", s.device_count);
        w.Int("GmtCreate", p.created_ms);
        w.EndItem();
    }
    w.EndArray();
    w.EndObject();
    w.EndObject();
    return Ok();
}

Status UpdateProductAction(ActionContext& ctx) {
    domain::UpdateProductCommand cmd;
    OTA_ASSIGN_OR_RETURN(cmd.product_key, RequiredString(ctx.params, "ProductKey"));
    OTA_ASSIGN_OR_RETURN(cmd.product_name, RequiredString(ctx.params, "ProductName"));
    if (const std::string* desc = ctx.params.Find("Description")) {
        cmd.description = *desc;
    }
    return ctx.services.UpdateProduct(ctx.scope, cmd);
}

Status DeleteProductAction(ActionContext& ctx) {
    OTA_ASSIGN_OR_RETURN(const std::string product_key, RequiredString(ctx.params, "ProductKey"));
    return ctx.services.DeleteProduct(ctx.scope, product_key);
}

}  // namespace otad::rpc
