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

}  // namespace otad::rpc
